"""One run on a worker: its seed, the run function, and the row it yields.

Kept light (numpy and the standard library) because every Dask worker imports it.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.executors.base import resolve

__all__ = ["RunTask", "execute_run", "run_seed", "seed_fingerprint", "warm_worker"]


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run (small and picklable)."""

    run_id: int
    point_id: int
    replication: int
    root_seed: int
    params: dict[str, int | float]
    fixed: dict[str, Any]
    scenario: str
    days: int
    run_function: str = "sim.run"
    outputs: tuple[str, ...] = ()


def run_seed(root_seed: int, point_id: int, replication: int) -> np.random.SeedSequence:
    """The seed of one run: ``SeedSequence(root, spawn_key=(point_id, replication))``."""
    return np.random.SeedSequence(root_seed, spawn_key=(point_id, replication))


def seed_fingerprint(ss: np.random.SeedSequence) -> int:
    """A 63-bit integer drawn from the run's seed sequence (stored in the ``seed`` column)."""
    a, b = (int(x) for x in ss.generate_state(2, np.uint32))
    return ((a << 32) | b) & 0x7FFF_FFFF_FFFF_FFFF


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, str)


def execute_run(task: RunTask) -> dict[str, Any]:
    """Run one simulation (on a worker) and return its row: ids, seed, params, KPIs."""
    fn = resolve(task.run_function)
    ss = run_seed(task.root_seed, task.point_id, task.replication)
    t0 = time.perf_counter()
    kpis = fn(task.scenario, {**task.fixed, **task.params}, seed=ss, days=task.days)
    wall = time.perf_counter() - t0
    row: dict[str, Any] = {
        "run_id": task.run_id, "point_id": task.point_id, "replication": task.replication,
        "seed": seed_fingerprint(ss),
    }
    row.update(task.params)
    keys = task.outputs or tuple(k for k, v in kpis.items() if _is_number(v))
    for k in keys:
        if k in row:
            raise ValueError(f"KPI {k!r} clashes with a sweep column")
        v = kpis.get(k, math.nan)
        row[k] = float(v) if _is_number(v) else math.nan
    row["wall_seconds"] = wall
    return row


_WARM: set[str] = set()  # run functions this process has warmed up


def warm_worker(run_function: str) -> str:
    """Ready a worker before its first run: import the run function and, for the model's own
    (``sim.run``), load every compiled kernel from numba's cache by running two tiny cities
    (:mod:`sim.precompile`), so no run pays the imports or the kernels; once per process. Its
    runs' large passes take one thread (:mod:`sim.engine.split`) unless ``CITYRISK_THREADS`` says.
    Returns its argument."""
    fn = resolve(run_function)
    from sim.engine import split

    if not os.environ.get(split.THREADS_ENV):  # a worker has its core: its runs pass in one thread
        split.set_threads(1)
    if getattr(fn, "__module__", "") == "sim.runner" and run_function not in _WARM:
        _WARM.add(run_function)
        from sim.precompile import compile_kernels

        compile_kernels()
    return run_function
