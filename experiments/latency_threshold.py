"""Experiment 2 — information latency: the threshold beyond which escalations take off.

    .venv/bin/python experiments/latency_threshold.py            # run the sweep if needed, draw
    .venv/bin/python experiments/latency_threshold.py --no-run   # redraw from the store only

Store: runs/latency_threshold (``--store``). Figure: experiments/figures/latency_threshold.png.
Two readings of "the threshold" per curve: the latency at which the mean escalated share has
doubled from its zero-latency value (linear interpolation between grid points), and the Kneedle
knee (the point farthest below the chord from the first to the last point, normalised units).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.sweep import load_results, load_spec, run_sweep, summarize  # noqa: E402

NAME = "latency_threshold"
X, HUE, Y = "levers.latency_hours_per_hop", "world.escalation_growth_per_day", "escalated_share"


def ensure(store: Path, workers: int | None, run: bool) -> None:
    """Run (or finish) the sweep into ``store`` unless told not to."""
    if run:
        run_sweep(load_spec(HERE / f"{NAME}.toml"), store, executor="local", workers=workers,
                  resume=(store / "manifest.json").exists())


def doubling(x: np.ndarray, y: np.ndarray) -> float:
    """Latency where y first reaches twice y(x[0]) (interpolated); NaN if it never does."""
    target = 2 * y[0]
    above = np.flatnonzero(y >= target)
    if not len(above):
        return float("nan")
    i = int(above[0])
    return float(np.interp(target, [y[i - 1], y[i]], [x[i - 1], x[i]]))


def kneedle_up(x: np.ndarray, y: np.ndarray) -> float:
    """Knee of a rising convex curve: argmax of (x_n - y_n) in normalised units."""
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y.min()) / (y.max() - y.min())
    return float(x[int(np.argmax(xn - yn))])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", type=Path, default=HERE.parent / "runs" / NAME)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--no-run", action="store_true", help="only redraw from the store")
    ap.add_argument("--out", type=Path, default=HERE / "figures" / f"{NAME}.png")
    args = ap.parse_args(argv)
    ensure(args.store, args.workers, not args.no_run)
    res = load_results(args.store)
    if res.runs.empty:
        print(f"{args.store}: no finished runs", file=sys.stderr)
        return 1
    s = summarize(res.runs, res.params, [Y, "median_hours_to_resolution", "mean_trust"])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4), gridspec_kw={"width_ratios": [3, 2]})
    print(f"{NAME}: {len(res.runs)} runs ({res.missing} missing)")
    for hue, g in s[s.kpi == Y].groupby(HUE):
        g = g.sort_values(X)
        x, y = g[X].to_numpy(float), g["mean"].to_numpy()
        (line,) = ax.plot(x, 100 * y, marker="o", ms=4, label=f"hazard growth {hue:g} / day")
        ax.fill_between(x, 100 * g["ci_lo"].clip(lower=0), 100 * g["ci_hi"],
                        color=line.get_color(), alpha=0.2, lw=0)
        d2, kn = doubling(x, y), kneedle_up(x, y)
        ax.axvline(d2, color=line.get_color(), ls=":", lw=1)
        print(f"  growth {hue:g}/day: {100 * y[0]:.2f}% at 0 h -> {100 * y[-1]:.1f}% at "
              f"{x[-1]:g} h; doubles at {d2:.0f} h/hop; Kneedle knee {kn:g} h/hop")
        for xi, yi, lo, hi in zip(x, y, g["ci_lo"], g["ci_hi"], strict=True):
            print(f"    {xi:>5g} h: {100 * yi:6.2f}%  [{100 * lo:6.2f}, {100 * hi:6.2f}]")
        m = s[(s.kpi == "median_hours_to_resolution") & (s[HUE] == hue)].sort_values(X)
        ax2.plot(m[X], m["mean"], marker="o", ms=3, color=line.get_color())
        slope, icept = np.polyfit(m[X].to_numpy(float), m["mean"].to_numpy(), 1)
        print(f"    median hours to resolution ~ {icept:.0f} + {slope:.2f} x latency per hop")
    ax.set_xlabel("information latency per reporting hop, hours")
    ax.set_ylabel("escalated share of cases, %  (mean, 95% CI)")
    ax.set_title("Escalation against latency (dotted: share doubled)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax2.set_xlabel("information latency per reporting hop, hours")
    ax2.set_ylabel("median hours to resolution")
    ax2.set_title("Time to resolution", fontsize=10)
    ax2.grid(alpha=0.3)
    fig.suptitle("Town (100,000 residents), 180 days, 3 replications per point", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=130)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
