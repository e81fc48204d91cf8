"""dask-jobqueue SLURM/PBS clusters: the options of their worker jobs and the job script.

Batch workers read their Dask config from a YAML file (``DASK_CONFIG``) written next to the
results, because the environment-variable spelling of the MALLOC_TRIM_THRESHOLD_ key does not
work (PITFALLS.md).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.sweep.spec import ClusterSpec


def jobqueue_class(kind: str) -> Any:
    """``SLURMCluster`` for ``"slurm"``, else ``PBSCluster``."""
    if kind == "slurm":
        from dask_jobqueue import SLURMCluster

        return SLURMCluster
    from dask_jobqueue import PBSCluster

    return PBSCluster


def _worker_config(store_dir: Path) -> Path:
    """A Dask YAML config for batch workers that unsets MALLOC_TRIM_THRESHOLD_ (see PITFALLS)."""
    path = Path(store_dir).resolve() / ".dask" / "worker.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("distributed:\n  nanny:\n    pre-spawn-environ:\n"
                    "      MALLOC_TRIM_THRESHOLD_: null\n", encoding="utf-8")
    return path


def jobqueue_options(spec: ClusterSpec, store_dir: Path) -> dict[str, Any]:
    """Keyword arguments of the jobqueue cluster: the spec's options with one single-threaded
    worker per core and the worker config exported in the job's prologue."""
    opts = dict(spec.options)
    opts.setdefault("cores", 1)
    opts.setdefault("memory", "2GB")
    opts.setdefault("processes", opts["cores"])
    opts.setdefault("python", sys.executable)
    prologue = list(opts.pop("job_script_prologue", []))
    prologue.append(f"export DASK_CONFIG={shlex.quote(str(_worker_config(store_dir)))}")
    opts["job_script_prologue"] = prologue
    return opts


def jobqueue_job_script(spec: ClusterSpec, store_dir: Path,
                        scheduler: str = "tcp://SCHEDULER_ADDRESS:8786") -> str:
    """The batch script dask-jobqueue would submit for one worker job (no scheduler started)."""
    from dask_jobqueue.core import Job

    opts = jobqueue_options(spec, store_dir)
    job_class: type[Job]
    if spec.kind == "slurm":
        from dask_jobqueue.slurm import SLURMJob

        job_class = SLURMJob
    else:
        from dask_jobqueue.pbs import PBSJob

        job_class = PBSJob
    opts.pop("scheduler_options", None)
    opts.pop("n_workers", None)
    return job_class(scheduler=scheduler, name="cityrisk-worker", **opts).job_script()
