"""Executors for calibration runs: serial, local processes, or a Dask cluster.

``dask`` goes through the sweeps' Dask executor (same cluster set-up, same fault tolerance);
``processes`` is a plain local process pool (no scheduler to start; best on one machine).
Each takes a list of tasks ``(fn, args)`` and returns the results in task order, calling
``on_done(i, result)`` as each task finishes (for the progress bar). Runs are seeded explicitly, so the results do not
depend on which worker ran what or in which order.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

Task = tuple[Callable[..., Any], tuple[Any, ...]]


def resolve(ref: str | Callable[..., Any]) -> Callable[..., Any]:
    """A callable from ``"module:function"`` (or the callable itself)."""
    if callable(ref):
        return ref
    mod, _, name = ref.partition(":")
    try:
        fn = getattr(importlib.import_module(mod), name)
    except (ImportError, AttributeError) as exc:
        raise ImportError(f"calibrate.simulator = {ref!r}: cannot import ({exc})") from None
    if not callable(fn):
        raise ImportError(f"calibrate.simulator = {ref!r}: not callable")
    return fn


def call_simulator(ref: str | Callable[..., Any], scenario: Any, params: dict[str, Any],
                   seed: int, days: int | None) -> dict[str, float]:
    """Top-level (picklable) task: ``simulator(scenario, params, seed, days)``."""
    return resolve(ref)(scenario, params, seed, days)


class SerialExecutor:
    """Runs tasks one after another in this process."""

    workers = 1

    def run(self, tasks: Sequence[Task], on_done: Callable[[int, Any], None] | None = None) -> list:
        """Run all tasks; results in task order."""
        out = []
        for i, (fn, args) in enumerate(tasks):
            res = fn(*args)
            out.append(res)
            if on_done:
                on_done(i, res)
        return out

    def close(self) -> None:
        """Nothing to release."""


class ProcessExecutor(SerialExecutor):
    """A local process pool (``concurrent.futures``), kept open across batches."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        # spawn: safe in a multi-threaded parent (fork is not), the default from Python 3.14 on
        self._pool = ProcessPoolExecutor(max_workers=workers,
                                         mp_context=multiprocessing.get_context("spawn"))

    def run(self, tasks: Sequence[Task], on_done: Callable[[int, Any], None] | None = None) -> list:
        """Submit all tasks; results in task order."""
        futs = {self._pool.submit(fn, *args): i for i, (fn, args) in enumerate(tasks)}
        out: list[Any] = [None] * len(tasks)
        for fut in as_completed(futs):
            i = futs[fut]
            out[i] = fut.result()
            if on_done:
                on_done(i, out[i])
        return out

    def close(self) -> None:
        """Shut the pool down."""
        self._pool.shutdown(cancel_futures=True)


def _apply(task: tuple[int, Callable[..., Any], tuple[Any, ...]]) -> Any:
    """Top-level helper for the sweep executors: ``(i, fn, args) -> fn(*args)``."""
    return task[1](*task[2])


class DaskExecutor(SerialExecutor):
    """Dask through the sweeps' executor (``sim.sweep.executors.DaskExecutor``): a LocalCluster
    of ``workers`` single-threaded processes, or the scheduler at ``address``."""

    def __init__(self, workers: int, address: str = "") -> None:
        from sim.sweep.executors import DaskExecutor as SweepDask

        self._ex = SweepDask.remote(address) if address else SweepDask.local(workers)
        self.workers = self._ex.n_workers() if address else workers
        self._batch = 0

    def run(self, tasks: Sequence[Task], on_done: Callable[[int, Any], None] | None = None) -> list:
        """Submit all tasks (explicit keys, impure); results in task order."""
        self._batch += 1
        tag = f"calibrate-{os.getpid()}-{self._batch}"
        items = [(i, fn, args) for i, (fn, args) in enumerate(tasks)]
        out: list[Any] = [None] * len(tasks)
        for task, res in self._ex.map_unordered(_apply, items, key=lambda t: f"{tag}-{t[0]}"):
            if isinstance(res, BaseException):
                raise res
            out[task[0]] = res
            if on_done:
                on_done(task[0], res)
        return out

    def close(self) -> None:
        """Close the client (and the local cluster if it was started here)."""
        self._ex.close()


def make_executor(kind: str, workers: int = 1, address: str = "") -> SerialExecutor:
    """``serial`` | ``processes`` | ``dask``. ``workers`` <= 0 means all cores."""
    workers = workers if workers > 0 else (os.cpu_count() or 1)
    if kind == "serial" or (kind == "processes" and workers == 1):
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers)
    if kind == "dask":
        return DaskExecutor(workers, address)
    raise ValueError(f"calibrate.executor = {kind!r}: must be one of serial, processes, dask")
