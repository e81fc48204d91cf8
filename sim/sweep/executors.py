"""Where runs execute: in-process, a Dask LocalCluster, a remote scheduler, or dask-jobqueue.

Every Dask path goes through :class:`DaskExecutor`: one task per run with an explicit key and
``pure=False``, a bounded number in flight, results handed back as they finish. A worker that dies
is restarted by its nanny and its tasks rescheduled by the scheduler (capped by
``distributed.scheduler.allowed-failures``), so no run is lost. Dask's default
``MALLOC_TRIM_THRESHOLD_`` for workers slowed numpy-heavy runs about 3x here; it is unset.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from .spec import ClusterSpec, SpecError

__all__ = [
    "DaskExecutor",
    "Executor",
    "SerialExecutor",
    "array_job_script",
    "jobqueue_job_script",
    "parse_shard",
]

_MALLOC_KEY = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"


class Executor(Protocol):
    """Runs ``fn(task)`` for each task; yields ``(task, result_or_exception)`` as they finish."""

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any], key: Callable[[Any], str]
                      ) -> Iterator[tuple[Any, Any]]: ...

    def close(self) -> None: ...


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` (1-based) -> ``(I-1, N)``; SpecError if malformed."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise SpecError(f"--shard {text!r}: must be I/N with integers, e.g. 2/8") from None
    if n < 1 or not 1 <= i <= n:
        raise SpecError(f"--shard {text!r}: need 1 <= I <= N")
    return i - 1, n


class SerialExecutor:
    """Runs tasks one after another in this process (debugging, tests, single-core shards)."""

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
                      key: Callable[[Any], str]) -> Iterator[tuple[Any, Any]]:
        for t in tasks:
            try:
                yield t, fn(t)
            except Exception as exc:  # a failed run is reported, the sweep goes on
                yield t, exc

    def close(self) -> None:
        return None


def _dask_config(allowed_failures: int) -> dict[str, Any]:
    return {
        _MALLOC_KEY: None,
        "distributed.scheduler.allowed-failures": allowed_failures,
    }


class DaskExecutor:
    """Run tasks on a Dask cluster through a ``distributed.Client``."""

    def __init__(self, client: Any, cluster: Any = None, max_in_flight: int = 0) -> None:
        self.client = client
        self.cluster = cluster
        self.max_in_flight = max_in_flight

    @classmethod
    def local(cls, workers: int | None = None, allowed_failures: int = 5,
              max_in_flight: int = 0) -> DaskExecutor:
        """A LocalCluster on 127.0.0.1: one single-threaded worker process per core."""
        import dask
        from dask.distributed import Client, LocalCluster

        n = workers or os.cpu_count() or 1
        dask.config.set(_dask_config(allowed_failures))
        cluster = LocalCluster(host="127.0.0.1", n_workers=n, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        return cls(Client(cluster), cluster, max_in_flight)

    @classmethod
    def remote(cls, address: str, allowed_failures: int = 5, max_in_flight: int = 0
               ) -> DaskExecutor:
        """Connect to a running scheduler (``tcp://host:8786``)."""
        import dask
        from dask.distributed import Client

        dask.config.set(_dask_config(allowed_failures))
        return cls(Client(address, timeout="30s"), None, max_in_flight)

    @classmethod
    def jobqueue(cls, spec: ClusterSpec, store_dir: Path, allowed_failures: int = 5,
                 max_in_flight: int = 0) -> DaskExecutor:
        """Start a dask-jobqueue SLURM/PBS cluster from the spec's ``[cluster]`` section."""
        import dask
        from dask.distributed import Client

        dask.config.set(_dask_config(allowed_failures))
        cluster = _jobqueue_class(spec.kind)(**_jobqueue_options(spec, store_dir))
        cluster.scale(jobs=spec.jobs)
        return cls(Client(cluster), cluster, max_in_flight)

    def n_workers(self) -> int:
        """Workers currently connected (at least 1)."""
        try:
            return max(1, len(self.client.scheduler_info()["workers"]))
        except Exception:
            return 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any],
                      key: Callable[[Any], str]) -> Iterator[tuple[Any, Any]]:
        from dask.distributed import as_completed

        window = self.max_in_flight or max(64, 8 * self.n_workers())
        it = iter(tasks)
        by_key: dict[str, Any] = {}

        def submit() -> Any | None:
            t = next(it, None)
            if t is None:
                return None
            k = key(t)
            by_key[k] = t
            return self.client.submit(fn, t, key=k, pure=False, retries=0)

        live: dict[str, Any] = {}
        for f in (submit() for _ in range(window)):
            if f is not None:
                live[f.key] = f
        ac = as_completed(list(live.values()), with_results=False)
        try:
            for fut in ac:
                task = by_key.pop(fut.key)
                live.pop(fut.key, None)
                try:
                    out: Any = fut.result()
                except Exception as exc:  # run error or KilledWorker after allowed failures
                    out = exc
                fut.release()
                nxt = submit()
                if nxt is not None:
                    live[nxt.key] = nxt
                    ac.add(nxt)
                yield task, out
        finally:  # the caller stopped early (abort, Ctrl-C): drop what is still queued
            if live:
                self.client.cancel(list(live.values()))

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def _jobqueue_class(kind: str) -> Any:
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


def _jobqueue_options(spec: ClusterSpec, store_dir: Path) -> dict[str, Any]:
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
    opts = _jobqueue_options(spec, store_dir)
    if spec.kind == "slurm":
        from dask_jobqueue.slurm import SLURMJob as Job
    else:
        from dask_jobqueue.pbs import PBSJob as Job
    opts.pop("scheduler_options", None)
    opts.pop("n_workers", None)
    return Job(scheduler=scheduler, name="cityrisk-worker", **opts).job_script()


def array_job_script(spec: ClusterSpec, spec_path: Path, out_dir: Path, shards: int) -> str:
    """A SLURM array script running ``cityrisk sweep --shard I/N`` (no Dask scheduler needed)."""
    o = spec.options
    lines = ["#!/usr/bin/env bash", "#SBATCH -J cityrisk-sweep", f"#SBATCH --array=1-{shards}"]
    if o.get("queue"):
        lines.append(f"#SBATCH -p {o['queue']}")
    if o.get("account"):
        lines.append(f"#SBATCH -A {o['account']}")
    cores = int(o.get("cores", 1))
    lines += ["#SBATCH -n 1", f"#SBATCH --cpus-per-task={cores}"]
    if o.get("memory"):
        lines.append(f"#SBATCH --mem={str(o['memory']).replace('GB', 'G')}")
    if o.get("walltime"):
        lines.append(f"#SBATCH -t {o['walltime']}")
    lines += [f"#SBATCH {d}" for d in o.get("job_extra_directives", [])]
    lines.append("")
    lines += list(o.get("job_script_prologue", []))
    py = shlex.quote(str(o.get("python", sys.executable)))
    cmd = (f"{py} -m sim.sweep sweep {shlex.quote(str(spec_path))} "
           f"--out {shlex.quote(str(out_dir))} --shard ${{SLURM_ARRAY_TASK_ID}}/{shards} "
           f"--workers ${{SLURM_CPUS_PER_TASK:-{cores}}} --no-progress")
    lines += ["export PYTHONUNBUFFERED=1", cmd, ""]
    return "\n".join(lines)
