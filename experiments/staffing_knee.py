"""Experiment 1 — staffing vs escalation: where is the knee of the curve?

    .venv/bin/python experiments/staffing_knee.py            # run the sweep if needed, draw
    .venv/bin/python experiments/staffing_knee.py --no-run   # redraw from the store only

Store: runs/staffing_knee (``--store``). Figure: experiments/figures/staffing_knee.png.
The knee is found two ways on the falling part of each curve (from its peak on): Kneedle (the
point farthest below the chord from the peak to the last point, in normalised units) and the
fewest mediators whose mean escalated share is within 10% of the best level on the curve.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.sweep import load_results, load_spec, run_sweep, summarize  # noqa: E402

NAME = "staffing_knee"
X, HUE, Y = "levers.mediators_per_street", "levers.centre_staff_per_street", "escalated_share"


def ensure(store: Path, workers: int | None, run: bool) -> None:
    """Run (or finish) the sweep into ``store`` unless told not to."""
    if run:
        run_sweep(load_spec(HERE / f"{NAME}.toml"), store, executor="local", workers=workers,
                  resume=(store / "manifest.json").exists())


def knee(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(Kneedle knee, fewest x within 10% of the best y) on the falling part of y(x)."""
    i0 = int(np.argmax(y))
    xs, ys = x[i0:], y[i0:]
    xn = (xs - xs[0]) / (xs[-1] - xs[0])
    yn = (ys - ys.min()) / (ys[0] - ys.min())
    kneedle = float(xs[int(np.argmax((1 - xn) - yn))])
    within = float(xs[np.flatnonzero(ys <= 1.1 * ys.min())[0]])
    return kneedle, within


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
    s = summarize(res.runs, res.params, [Y, "collective_incidents", "backlog"])

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4), gridspec_kw={"width_ratios": [3, 2]})
    print(f"{NAME}: {len(res.runs)} runs ({res.missing} missing)")
    for hue, g in s[s.kpi == Y].groupby(HUE):
        g = g.sort_values(X)
        x, y = g[X].to_numpy(float), g["mean"].to_numpy()
        (line,) = ax.plot(x, 100 * y, marker="o", ms=4, label=f"{hue} centre staff / street")
        ax.fill_between(x, 100 * g["ci_lo"].clip(lower=0), 100 * g["ci_hi"],
                        color=line.get_color(), alpha=0.2, lw=0)
        kn, w10 = knee(x, y)
        ax.axvline(kn, color=line.get_color(), ls=":", lw=1)
        print(f"  centre staff {hue}: peak {100 * y.max():.1f}% at {x[np.argmax(y)]:g} "
              f"mediators, best {100 * y.min():.1f}% at {x[np.argmin(y)]:g}; knee (Kneedle) "
              f"{kn:g} mediators, within 10% of best from {w10:g}")
        for xi, yi, lo, hi in zip(x, y, g["ci_lo"], g["ci_hi"], strict=True):
            print(f"    mediators {xi:>4g}: {100 * yi:6.2f}%  [{100 * lo:6.2f}, {100 * hi:6.2f}]")
    ax.set_xlabel("people's mediators per street")
    ax.set_ylabel("escalated share of cases, %  (mean, 95% CI)")
    ax.set_title("Escalation against mediation staffing (dotted: knee)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    b = s[(s.kpi == "backlog") & (s[HUE] == 4)].sort_values(X)
    ax2.plot(b[X], b["mean"], marker="o", ms=4, color="k")
    ax2.fill_between(b[X], b["ci_lo"].clip(lower=0), b["ci_hi"], color="k", alpha=0.15, lw=0)
    ax2.set_xlabel("people's mediators per street")
    ax2.set_ylabel("open cases at the end (backlog)")
    ax2.set_title("Backlog, 4 centre staff / street", fontsize=10)
    ax2.grid(alpha=0.3)
    fig.suptitle("Town (100,000 residents), 180 days, 4 replications per point", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=130)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
