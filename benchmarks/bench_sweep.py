"""Sweep throughput with 1 and 2 Dask workers (target: 2 workers >= 1.8x one worker).

Runs the same sweep of the real model (``sim.run`` on the ``town`` scenario) through a
LocalCluster of 1, then 2, single-threaded workers, writing to a fresh store each time. Cluster
start-up and the workers' first import of ``sim`` are excluded (a warm-up task per worker); the
timed part is planning, execution, chunked Parquet writes and the manifest.

    .venv/bin/python benchmarks/bench_sweep.py                 # 48 runs of town, 120 days
    .venv/bin/python benchmarks/bench_sweep.py --runs 96 --days 365 --json

The machine's load average is printed alongside: on a shared 2-core machine other processes
eat into the second worker, and the ratio is only meaningful when the load is below ~0.5.
"busy" (run-function time / (workers x elapsed)) shows the sweep machinery's own overhead and is
far less sensitive to other load.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SPEC = """
name = "bench"
scenario = "{scenario}"
days = {days}
replications = {reps}
seed = 2026
run_function = "{fn}"
{fixed}
[design]
kind = "grid"
[design.parameters]
"levers.grid_workers_per_grid" = [2, 3, 4, 5, 6, 7, 8, 9]
[execution]
chunk_size = 16
"""


def measure(spec_path: Path, workers: int, root: Path) -> dict[str, float]:
    """Throughput of one sweep on a warmed-up LocalCluster of ``workers`` workers."""
    from sim.executors import DaskExecutor
    from sim.sweep import load_spec, run_sweep

    spec = load_spec(spec_path)
    t0 = time.perf_counter()
    ex = DaskExecutor.local(workers)
    try:
        ex.client.wait_for_workers(workers, timeout=120)
        ex.warm(spec.run_function)  # imports and compiled kernels (run_sweep does it too: a no-op then)
        startup = time.perf_counter() - t0
        t1 = time.perf_counter()
        rep = run_sweep(spec, root / f"w{workers}", executor=ex, progress=False)
        wall = time.perf_counter() - t1
    finally:
        ex.close()
    assert rep.complete and not rep.failed, rep.failed[:3]
    from sim.sweep import Store

    busy = float(Store(root / f"w{workers}").read_runs(["wall_seconds"])["wall_seconds"].sum())
    return {"workers": workers, "runs": rep.done, "seconds": wall,
            "runs_per_s": rep.done / wall, "startup_s": startup,
            "busy": busy / (workers * wall), "run_s": busy / rep.done}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default="town")
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--runs", type=int, default=48, help="total runs (multiple of 8)")
    ap.add_argument("--residents", type=int, default=0, help="override city.residents")
    ap.add_argument("--fake", action="store_true",
                    help="CPU-bound stand-in (sim.sweep.testing.busy_run) instead of sim.run")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    fixed = []
    if args.residents:
        fixed.append(f'"city.residents" = {args.residents}')
    if args.fake:
        fixed.append('"test.work" = 60')
    fn = "sim.sweep.testing.busy_run" if args.fake else "sim.run"
    text = SPEC.format(scenario=args.scenario, days=args.days, reps=max(1, args.runs // 8),
                       fn=fn, fixed=("[fixed]\n" + "\n".join(fixed)) if fixed else "")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as tmp:
        root = Path(tmp)
        spec_path = root / "bench.toml"
        spec_path.write_text(text)
        for w in args.workers:
            load_before = os.getloadavg()[0]
            r = measure(spec_path, w, root)
            r["load_before"] = load_before
            r["load_after"] = os.getloadavg()[0]
            results.append(r)
    base = results[0]["runs_per_s"]
    for r in results:
        r["speedup"] = r["runs_per_s"] / base
    if args.json:
        print(json.dumps({"cpu_count": os.cpu_count(), "model": fn, "days": args.days,
                          "results": results}, indent=2))
        return 0
    print(f"{fn} on {args.scenario}, {args.days} days, {results[0]['runs']} runs per sweep, "
          f"{os.cpu_count()} cores")
    print(f"{'workers':>7} {'runs/s':>8} {'speedup':>8} {'s/run in worker':>16} {'busy':>6} "
          f"{'startup s':>10} {'load 1-min':>11}")
    for r in results:
        print(f"{r['workers']:>7} {r['runs_per_s']:>8.2f} {r['speedup']:>8.2f} "
              f"{r['run_s']:>16.3f} {r['busy']:>6.0%} {r['startup_s']:>10.1f} "
              f"{r['load_before']:>5.1f}-{r['load_after']:<5.1f}")
    print("busy = share of worker time spent inside the run function (the rest is the sweep's "
          "own overhead: scheduling, transfer, Parquet chunks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
