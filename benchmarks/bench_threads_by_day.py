"""One thread against two, day by day within one run: the split passes' gain (sim/engine/split.py)
measured so that the host's drift cancels.

On a shared virtual machine the same year takes ±15 % from one run to the next, and a second vCPU
comes and goes: whole runs alternated need many pairs to show a 5-10 % gain. Here one model is
built and warmed up, then every day is stepped with 1 or 2 threads in the order 1, 2, 2, 1, 1, 2,
2, 1, ... (ABBA: a trend in the days' work, such as a growing backlog, falls on both alike). The
split passes give the same numbers to the bit on any number of threads, so the run is the run
either count would give. Printed: the mean wall milliseconds a day per thread count, their ratio,
and a 95 % interval of the mean paired difference (each day against its neighbour of the other
count).

    .venv/bin/python benchmarks/bench_threads_by_day.py --multiplier 5 --warmup 150 --days 200
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's sim

ORDER = (1, 2, 2, 1)


def measure(scenario: str, multiplier: float, warmup: int, days: int, seed: int = 0) -> dict[str, float]:
    """Wall seconds of each measured day by thread count (see the module's doc)."""
    import sim
    from sim.engine import split
    from sim.model import CityModel

    model = CityModel(sim.load_scenario(scenario, {"world.emergence_multiplier": multiplier}), rng=seed)
    model.run(warmup)
    walls: list[tuple[int, float]] = []
    try:
        for day in range(days):
            k = ORDER[day % 4]
            split.set_threads(k)
            tic = time.perf_counter()
            model.step()
            walls.append((k, time.perf_counter() - tic))
    finally:
        split.set_threads(split.default_threads())
    one = np.array([w for k, w in walls if k == 1]) * 1e3
    two = np.array([w for k, w in walls if k == 2]) * 1e3
    n = min(one.size, two.size)
    # pairs of neighbouring days: (1st, 2nd) and (4th, 3rd) of every ABBA block
    diff = one[:n] - two[:n]
    half = 1.96 * diff.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
    return {"ms_per_day_1_thread": float(one.mean()), "ms_per_day_2_threads": float(two.mean()),
            "ratio": float(one.mean() / two.mean()), "saved_ms_per_day": float(diff.mean()),
            "saved_ms_per_day_95ci": float(half), "days_each": int(n), "open_cases_at_end": len(model.cases)}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, measure, print (and optionally save) the figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="xian")
    p.add_argument("--multiplier", type=float, default=5.0, help="world.emergence_multiplier (default 5)")
    p.add_argument("--warmup", type=int, default=150, help="days run before measuring (default 150)")
    p.add_argument("--days", type=int, default=200, help="days measured, half on each count (default 200)")
    p.add_argument("--json", type=Path, help="also write the figures here")
    a = p.parse_args(argv)
    if a.days < 8 or a.warmup < 0:
        p.error("--days must be at least 8 and --warmup at least 0")
    r = measure(a.scenario, a.multiplier, a.warmup, a.days)
    print(f"{a.scenario} at {a.multiplier:g}x, days {a.warmup + 1}-{a.warmup + a.days} "
          f"({r['open_cases_at_end']:,} open cases at the end), {r['days_each']} days on each count:")
    print(f"  1 thread  {r['ms_per_day_1_thread']:8.2f} ms a day")
    print(f"  2 threads {r['ms_per_day_2_threads']:8.2f} ms a day   ratio {r['ratio']:.3f}")
    print(f"  saved {r['saved_ms_per_day']:.2f} ± {r['saved_ms_per_day_95ci']:.2f} ms a day (95 %)")
    if a.json:
        a.json.write_text(json.dumps({**vars(a), "json": str(a.json), **r}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
