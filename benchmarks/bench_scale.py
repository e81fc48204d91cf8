"""City scale: 13 million residents (``xian``), one simulated year, at the baseline's case rates
and at five times them.

Each configuration runs in a fresh subprocess (``_measure.py``), so its peak RSS is its own.
Printed per configuration: wall time, CPU time, model build time, peak RSS, cases per second,
resident-days per second, and the wall time of every stage of the ordered plan
(``model.stage_seconds``; ``cityrisk run xian --stages`` prints the same table). Targets (issue 6,
one process on a 2-core machine): ≤ 60 s and ≤ 2 GB at the baseline's rates (aim: 30 s, 1 GB),
≤ 120 s at five times them, build ≤ 5 s. Figures are printed, never asserted. On a shared
machine, wall time exceeds CPU time by what other processes take: compare the load average.

    .venv/bin/python benchmarks/bench_scale.py                       # xian, 365 days, 1x and 5x
    .venv/bin/python benchmarks/bench_scale.py --multipliers 1 --days 120
    .venv/bin/python benchmarks/bench_scale.py --json benchmarks/results/scale.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import describe, machine, measure  # noqa: E402

TARGETS = {1.0: (60.0, 2048.0), 5.0: (120.0, 2048.0)}


def stage_table(stage_seconds: dict[str, float]) -> str:
    """Per-stage wall time and share, in plan order."""
    total = sum(stage_seconds.values()) or 1.0
    lines = [f"    {'stage':<20} {'seconds':>8} {'share':>7}"]
    lines += [f"    {k:<20} {v:8.2f} {v / total:7.1%}" for k, v in stage_seconds.items()]
    return "\n".join(lines)


def summary(r: dict) -> str:
    """The headline figures of one run."""
    rd = r["residents"] * r["days"]
    return (f"  wall {r['run_s']:.1f} s (CPU {r['run_cpu_s']:.1f} s) for {r['days']} days; "
            f"build {r['build_s']:.2f} s (CPU {r['build_cpu_s']:.2f} s); "
            f"process total {r['process_wall_s']:.1f} s wall, {r['process_cpu_s']:.1f} s CPU\n"
            f"  peak RSS {r['peak_rss_mb']:.0f} MB; {r['cases']:,} cases "
            f"({r['open_at_end']:,} still open at the end, resolved share {r['resolved_share']:.2f})\n"
            f"  {r['cases'] / r['run_s']:,.0f} cases/s; {rd / r['run_s']:,.3g} resident-days/s "
            f"({r['run_s'] / rd * 1e9:.2f} ns per resident-day; "
            f"CPU {r['run_cpu_s'] / rd * 1e9:.2f} ns)")


def main(argv: list[str] | None = None) -> int:
    """Run the configurations and print their figures."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", default="xian")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--multipliers", default="1,5", help="emergence multipliers (comma-separated)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    a = p.parse_args(argv)

    info = machine()
    print(f"machine: {describe(info)}")
    results = []
    for mult in (float(x) for x in a.multipliers.split(",")):
        sets = [] if mult == 1.0 else [f"world.emergence_multiplier={mult:g}"]
        print(f"\n{a.scenario} x {a.days} days at {mult:g}x the baseline's case rates "
              f"({' '.join(sets) or 'no overrides'})", flush=True)
        r = measure(a.scenario, a.days, sets, seed=a.seed)
        r["multiplier"] = mult
        results.append(r)
        print(summary(r))
        if mult in TARGETS and a.days == 365 and r["residents"] >= 13_000_000:
            wall, rss = TARGETS[mult]
            print(f"  target: <= {wall:.0f} s and <= {rss:.0f} MB, build <= 5 s -> "
                  f"wall {r['run_s'] + r['build_s']:.1f} s, peak {r['peak_rss_mb']:.0f} MB, "
                  f"build {r['build_s']:.2f} s")
        print("  per stage (wall):")
        print(stage_table(r["stage_seconds"]))
        print(f"  load average after: {r['loadavg_1min_after']:.2f}", flush=True)
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"machine": info, "runs": results}, indent=2))
        print(f"\nwrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
