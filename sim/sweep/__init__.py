"""Batch sweeps: ``cityrisk sweep`` (spec -> Parquet store) and ``cityrisk analyze``.

Public API::

    from sim.sweep import load_spec, run_sweep, load_results, analyze
    spec = load_spec("experiments/staffing_knee.toml")
    run_sweep(spec, "runs/staffing_knee", executor="local", workers=2)
    analyze("runs/staffing_knee")
"""

from __future__ import annotations

from .analyze import Results, analyze, load_results, prim, sensitivity, summarize
from .designs import Design, build_design
from .runner import RunTask, SweepReport, execute_run, plan_runs, run_seed, run_sweep
from .spec import SpecError, SweepSpec, load_spec, parse_spec
from .store import Store, StoreError

__all__ = [
    "Design",
    "Results",
    "RunTask",
    "SpecError",
    "Store",
    "StoreError",
    "SweepReport",
    "SweepSpec",
    "analyze",
    "build_design",
    "execute_run",
    "load_results",
    "load_spec",
    "parse_spec",
    "plan_runs",
    "prim",
    "run_seed",
    "run_sweep",
    "sensitivity",
    "summarize",
]
