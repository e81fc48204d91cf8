"""Run a sweep: plan runs, skip finished ones, execute, stream rows into the store.

Each run gets ``SeedSequence(root_seed, spawn_key=(point_id, replication))``, so its random
streams depend on nothing but its coordinates: results are bit-identical whatever the executor,
the number of workers, the order of execution, sharding or resuming.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from sim.executors.base import Executor, ExecutorError
from sim.executors.base import check_executor as _check
from sim.executors.base import make_executor as _make
from sim.io.provenance import git_commit, library_versions, version

from .designs import Design, build_design
from .spec import SpecError, SweepSpec
from .store import Store
from .task import RunTask, execute_run, run_seed

log = logging.getLogger(__name__)

#: Stop a sweep whose first this-many results are all failures (a broken model or spec).
FAIL_FAST = 20

__all__ = ["RunTask", "SweepReport", "execute_run", "plan_runs", "run_seed", "run_sweep"]

@dataclass
class SweepReport:
    """What a call to :func:`run_sweep` did."""

    total: int
    skipped: int
    done: int = 0
    failed: list[tuple[int, str]] = field(default_factory=list)
    seconds: float = 0.0
    aborted: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True if every planned run of this shard has a row."""
        return self.skipped + self.done == self.total


def plan_runs(spec: SweepSpec, design: Design | None = None) -> list[RunTask]:
    """Every run of the sweep, ordered by run_id = point_id * replications + replication."""
    design = design or build_design(spec.design)
    scen = spec.scenario_ref
    return [
        RunTask(p * spec.replications + r, p, r, spec.seed, design.point(p), dict(spec.fixed),
                scen, spec.days, spec.run_function, spec.outputs)
        for p in range(design.n_points) for r in range(spec.replications)
    ]


def _scenario_hash(spec: SweepSpec) -> str | None:
    if spec.run_function != "sim.run":
        return None
    try:
        import sim

        return str(sim.load_scenario(spec.scenario_ref, dict(spec.fixed)).hash)
    except Exception:
        return None


def build_manifest(spec: SweepSpec, design: Design) -> dict[str, Any]:
    """The manifest written when a store begins."""
    text = spec.source.read_text(encoding="utf-8") if spec.source else None
    return {
        "format": 1, "name": spec.name, "description": spec.description,
        "spec_hash": spec.hash, "spec": spec.raw, "spec_text": text,
        "spec_path": str(spec.source) if spec.source else None,
        "scenario": spec.scenario, "scenario_hash": _scenario_hash(spec),
        "design_kind": design.kind, "parameters": list(design.names),
        "n_points": design.n_points, "replications": spec.replications,
        "total_runs": design.n_points * spec.replications, "root_seed": spec.seed,
        "seeding": "numpy.random.SeedSequence(root_seed, spawn_key=(point_id, replication))",
        "version": version(), "git_commit": git_commit(),
        "python": sys.version.split()[0], "numpy": np.__version__,
        "libraries": library_versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def make_executor(spec: SweepSpec, kind: str, workers: int | None, scheduler: str | None,
                  out: Path) -> Executor:
    """Build the executor named on the command line (see :mod:`sim.executors`)."""
    ex = spec.execution
    check_executor(spec, kind, scheduler)
    return _make(kind, workers, scheduler, cluster=spec.cluster, store_dir=out,
                 allowed_failures=ex.allowed_failures, max_in_flight=ex.max_in_flight)


def check_executor(spec: SweepSpec, kind: str, scheduler: str | None) -> None:
    """Reject executor arguments that cannot work (SpecError), before anything is written."""
    try:
        _check(kind, scheduler, spec.cluster)
    except ExecutorError as exc:
        raise SpecError(str(exc)) from None


def run_sweep(spec: SweepSpec, out: str | Path, *, executor: str | Executor = "local",
              workers: int | None = None, scheduler: str | None = None, resume: bool = False,
              shard: tuple[int, int] | None = None, progress: bool = True,
              chunk_size: int | None = None) -> SweepReport:
    """Run (or continue) a sweep into the store at ``out``.

    ``shard=(i, n)`` (0-based) runs only runs with ``run_id % n == i``; shards may share a store.
    Failed runs are reported (not written) and retried by the next ``resume``.
    """
    t0 = time.perf_counter()
    if isinstance(executor, str):
        check_executor(spec, executor, scheduler)
    design = build_design(spec.design)
    store = Store(out)
    manifest = build_manifest(spec, design)
    old = store.open(manifest, design.frame(), resume=resume, join=shard is not None)
    notes = []
    if old.get("git_commit") != manifest["git_commit"] or old.get("version") != manifest[
            "version"]:
        notes.append(f"the store began with cityrisk {old.get('version')} at commit "
                     f"{old.get('git_commit')}; this is {manifest['version']} at "
                     f"{manifest['git_commit']}: if the model changed, rows will mix versions")
    store.clean_temp(older_than_s=60)
    tasks = plan_runs(spec, design)
    if shard is not None:
        tasks = [t for t in tasks if t.run_id % shard[1] == shard[0]]
    done_ids = store.done_run_ids()
    todo = [t for t in tasks if t.run_id not in done_ids]
    report = SweepReport(total=len(tasks), skipped=len(tasks) - len(todo), notes=notes)
    log.info("sweep %s: %d runs to do, %d already in %s", spec.name, len(todo), report.skipped, out)
    if not todo:
        report.seconds = time.perf_counter() - t0
        return report
    tag = f"s{shard[0] + 1}of{shard[1]}" if shard else "all"
    size = chunk_size or spec.execution.chunk_size
    ex = make_executor(spec, executor, workers, scheduler, Path(out)) if isinstance(
        executor, str) else executor
    warm = getattr(ex, "warm", None)  # Dask workers: imports and compiled kernels loaded up front
    if warm is not None:
        try:
            warm(spec.run_function)
        except Exception as exc:  # a speed-up only: the runs themselves report what is wrong
            log.warning("warming the workers up failed (%s: %s); the runs go ahead", type(exc).__name__, exc)
    bar = _progress(report, spec.name, progress)
    buf: list[dict[str, Any]] = []
    last_flush = time.monotonic()
    token = spec.hash[:10]
    try:
        for task, res in ex.map_unordered(execute_run, todo,
                                          key=lambda t: f"cityrisk-{token}-run-{t.run_id}"):
            if isinstance(res, BaseException):
                report.failed.append((task.run_id, f"{type(res).__name__}: {res}"))
                log.warning("run %d failed: %s: %s", task.run_id, type(res).__name__, res)
                if bar is not None:
                    bar.set_postfix(failed=len(report.failed))
                if report.done == 0 and len(report.failed) >= FAIL_FAST:
                    report.aborted = True
                    break
                continue
            buf.append(res)
            report.done += 1
            if bar is not None:
                bar.update(1)
            if len(buf) >= size or time.monotonic() - last_flush >= spec.execution.flush_seconds:
                store.write_chunk(buf, tag)
                log.info("stored %d rows; %d of %d runs done", len(buf), report.done, len(todo))
                buf, last_flush = [], time.monotonic()
        store.write_chunk(buf, tag)
        buf = []
    finally:
        if buf:  # interrupted (Ctrl-C, lost scheduler): keep what finished
            store.write_chunk(buf, tag)
        if bar is not None:
            bar.close()
        if isinstance(executor, str):
            ex.close()
    report.seconds = time.perf_counter() - t0
    log.info("sweep %s: %d done, %d failed in %.1f s", spec.name, report.done, len(report.failed),
             report.seconds)
    return report


def _progress(report: SweepReport, name: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=report.total, initial=report.skipped, desc=name, unit="run",
                dynamic_ncols=True, smoothing=0.1, file=sys.stderr)
