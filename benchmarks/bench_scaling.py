"""Scaling curves: wall time, CPU time and peak memory against the number of residents, from
1e5 to 1.3e7 (the baseline's arrangements and case rates, one simulated year), and against the
case rate (``xian``, 13 million residents, one year, the case rates times 1 to 10), as figures.

Each point runs in a fresh subprocess (``_measure.py``) so that its peak RSS is its own. Each
figure (docs/img/scaling.png and docs/img/scaling_rates.png by default) has two panels: run
time (wall and CPU; model build shown separately) and peak RSS, on log axes.

    .venv/bin/python benchmarks/bench_scaling.py                    # both curves
    .venv/bin/python benchmarks/bench_scaling.py --rates ""         # residents only
    .venv/bin/python benchmarks/bench_scaling.py --sizes "" --rates 1,5
    .venv/bin/python benchmarks/bench_scaling.py --sizes 1e5,1e6 --days 120 --png /tmp/s.png
    .venv/bin/python benchmarks/bench_scaling.py --from-json benchmarks/results/current_scaling.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, describe, machine, measure  # noqa: E402

SIZES = "1e5,3e5,1e6,3e6,6.5e6,1.3e7"
RATES = "1,2,3,5,10"


def plot(rows: list[dict], info: dict, days: int, path: Path, by: str = "residents") -> None:
    """Two panels: time and peak memory against residents (or the case-rate multiplier)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = [r[by] for r in rows]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    ax1.loglog(n, [r["run_s"] for r in rows], "o-", label="run, wall")
    ax1.loglog(n, [r["run_cpu_s"] for r in rows], "s--", label="run, CPU")
    ax1.loglog(n, [r["build_s"] for r in rows], "^:", label="build, wall")
    xlabel = "residents" if by == "residents" else "case rates (x the baseline's), 13 million residents"
    # the targets are xian's (issue 16): points, not lines across every size or rate
    targets = [(1.3e7, 2.0, "xian target, 1x: 2 s", -10)] if by == "residents" else [
        (1, 2.0, "target, 1x: 2 s", 10), (5, 20.0, "target, 5x: 20 s", 10)]
    for x, y, label, dx in targets:
        ax1.plot([x], [y], "_", color="black", ms=14, mew=2)
        ax1.annotate(label, (x, y), xytext=(dx, -3), textcoords="offset points", ha="left" if dx > 0 else "right",
                     va="center", color="dimgrey", fontsize=8,
                     bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})
    if by != "residents":
        ax1.plot(n, [r["cases"] / 1e5 for r in rows], "d-.", color="C4", label="cases / 1e5")
    ax1.set_xlabel(xlabel)
    ax1.set_ylabel(f"seconds ({days} simulated days)")
    ax1.set_title("Time")
    ax1.legend(fontsize=8)
    ax1.grid(True, which="both", alpha=0.3)
    ax2.loglog(n, [r["peak_rss_mb"] for r in rows], "o-", color="C3")
    ax2.axhline(2048, color="grey", lw=0.8, ls="--")
    ax2.text(n[0], 2048 * 1.05, "target: 2 GB", color="grey", fontsize=8)
    ax2.set_xlabel(xlabel)
    ax2.set_ylabel("peak RSS (MB)")
    ax2.set_title("Peak memory")
    ax2.grid(True, which="both", alpha=0.3)
    what = "baseline case rates" if by == "residents" else "xian, 365 days"
    fig.suptitle(f"cityrisk scaling, {what} — {info['nproc']} CPUs, {info['cpu']}, "
                 f"{info['ram_gb']} GB RAM", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    """Measure every size, print a table and write the figure."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default=SIZES, help=f"residents, comma-separated (default {SIZES})")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--rates", default=RATES, help=f"case-rate multipliers for xian (default {RATES}; '' = none)")
    p.add_argument("--png", default=str(ROOT / "docs" / "img" / "scaling.png"))
    p.add_argument("--png-rates", default=str(ROOT / "docs" / "img" / "scaling_rates.png"))
    p.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    p.add_argument("--from-json", metavar="PATH", help="redraw both figures from a --json file; no runs")
    a = p.parse_args(argv)

    if a.from_json:
        saved = json.loads(Path(a.from_json).read_text())
        for rows, png, by in ((saved["rows"], a.png, "residents"), (saved["rate_rows"], a.png_rates, "multiplier")):
            if rows:
                plot(rows, saved["machine"], saved["days"], Path(png), by=by)
                print(f"wrote {png}")
        return 0
    info = machine()
    print(f"machine: {describe(info)}")
    print(f"{'residents':>12} {'run wall s':>10} {'run CPU s':>10} {'build s':>8} {'peak MB':>8} "
          f"{'cases':>10} {'ns/res-day':>10}")
    rows = []
    for size in (int(float(x)) for x in a.sizes.split(",") if x):
        r = measure("baseline", a.days, [f"city.residents={size}"])
        rows.append(r)
        print(f"{r['residents']:>12,} {r['run_s']:>10.2f} {r['run_cpu_s']:>10.2f} {r['build_s']:>8.2f} "
              f"{r['peak_rss_mb']:>8.0f} {r['cases']:>10,} "
              f"{r['run_s'] / (r['residents'] * a.days) * 1e9:>10.2f}", flush=True)
    if rows:
        plot(rows, info, a.days, Path(a.png))
        print(f"wrote {a.png}")
    rate_rows = []
    if a.rates:
        print(f"\n{'xian, rates x':>13} {'run wall s':>10} {'run CPU s':>10} {'build s':>8} {'peak MB':>8} "
              f"{'cases':>10} {'open at end':>12}")
    for mult in (float(x) for x in a.rates.split(",") if x):
        r = measure("xian", a.days, [f"world.emergence_multiplier={mult:g}"])
        r["multiplier"] = mult
        rate_rows.append(r)
        print(f"{mult:>13g} {r['run_s']:>10.2f} {r['run_cpu_s']:>10.2f} {r['build_s']:>8.2f} "
              f"{r['peak_rss_mb']:>8.0f} {r['cases']:>10,} {r['open_at_end']:>12,}", flush=True)
    if rate_rows:
        plot(rate_rows, info, a.days, Path(a.png_rates), by="multiplier")
        print(f"wrote {a.png_rates}")
    if a.json:
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps({"machine": info, "days": a.days, "rows": rows,
                                            "rate_rows": rate_rows}, indent=2))
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
