"""Batch sweeps: ``cityrisk sweep`` (spec -> Parquet store) and ``cityrisk analyze``.

Public API::

    from sim.sweep import analyze_store, load_results, load_spec, run_sweep
    spec = load_spec("experiments/staffing_knee.toml")
    run_sweep(spec, "runs/staffing_knee", executor="local", workers=2)
    analyze_store("runs/staffing_knee")          # tables + figures in runs/staffing_knee/analysis
    res = load_results("runs/staffing_knee")     # manifest, spec, points, one row per run

Names are imported lazily, so Dask workers (which import :mod:`sim.sweep.task`) and the core
CLI (which imports :mod:`sim.sweep.cli`) do not pay for pandas, pyarrow or SALib.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Results": "analyze", "analyze_store": "analyze", "load_results": "analyze", "prim": "analyze",
    "sensitivity": "analyze", "summarize": "analyze",
    "Design": "designs", "build_design": "designs",
    "SweepReport": "runner", "plan_runs": "runner", "run_sweep": "runner",
    "RunTask": "task", "execute_run": "task", "run_seed": "task",
    "SpecError": "spec", "SweepSpec": "spec", "load_spec": "spec", "parse_spec": "spec",
    "Store": "store", "StoreError": "store",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
