"""City scale: 13 million residents (``xian``), one simulated year, at the baseline's case rates
and at five times them.

Each configuration runs in a fresh subprocess (``_measure.py``), so its peak RSS is its own.
Printed per configuration: wall time, CPU time, model build time, peak RSS, cases per second,
resident-days per second, and the wall time of every stage of the ordered plan
(``model.stage_seconds``; ``cityrisk run xian --stages`` prints the same table). Targets (issue 16,
one process on a 2-core machine): at the baseline's rates a run of ≤ 2 s and a build of ≤ 1 s; at
five times them ≤ 20 s (aim 10 s) and ≤ 1.5 GB; at ten times ≤ 2 GB. Figures and their ratio to
the target are printed, never asserted. On a shared machine, wall time exceeds CPU time by what
other processes take: compare the load average. ``--repeat 3`` prints medians of three runs.

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

# multiplier -> (run seconds, peak MB, build seconds); None = no target
TARGETS: dict[float, tuple[float | None, float | None, float | None]] = {
    1.0: (2.0, None, 1.0), 5.0: (20.0, 1536.0, None), 10.0: (None, 2048.0, None)}


def median_run(runs: list[dict]) -> dict:
    """The run with the median run time, with every time figure replaced by its median."""
    import statistics

    runs = sorted(runs, key=lambda r: r["run_s"])
    out = dict(runs[len(runs) // 2])
    for k in ("run_s", "run_cpu_s", "build_s", "build_cpu_s", "process_wall_s", "process_cpu_s", "peak_rss_mb"):
        out[k] = statistics.median(r[k] for r in runs)
    out["stage_seconds"] = {k: statistics.median(r["stage_seconds"][k] for r in runs)
                            for k in runs[0]["stage_seconds"]}
    out["repeats"] = len(runs)
    return out


def against_targets(r: dict, mult: float) -> str:
    """Each figure with a target, as a share of it (100% = on target, below is inside it)."""
    run_t, rss_t, build_t = TARGETS.get(mult, (None, None, None))
    parts = []
    if run_t is not None:
        parts.append(f"run {r['run_s']:.1f} s of <= {run_t:g} s ({r['run_s'] / run_t:.0%})")
    if build_t is not None:
        parts.append(f"build {r['build_s']:.2f} s of <= {build_t:g} s ({r['build_s'] / build_t:.0%})")
    if rss_t is not None:
        parts.append(f"peak {r['peak_rss_mb']:.0f} MB of <= {rss_t:.0f} MB ({r['peak_rss_mb'] / rss_t:.0%})")
    return "; ".join(parts)


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
    p.add_argument("--repeat", type=int, default=1, help="runs per configuration (medians printed)")
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    a = p.parse_args(argv)

    info = machine()
    print(f"machine: {describe(info)}")
    results = []
    for mult in (float(x) for x in a.multipliers.split(",")):
        sets = [] if mult == 1.0 else [f"world.emergence_multiplier={mult:g}"]
        print(f"\n{a.scenario} x {a.days} days at {mult:g}x the baseline's case rates "
              f"({' '.join(sets) or 'no overrides'})", flush=True)
        r = median_run([measure(a.scenario, a.days, sets, seed=a.seed) for _ in range(a.repeat)])
        r["multiplier"] = mult
        results.append(r)
        print(summary(r))
        if mult in TARGETS and a.days == 365 and r["residents"] >= 12_000_000:
            print(f"  against the targets: {against_targets(r, mult)}")
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
