"""Experiment 1 — staffing vs escalation: where is the knee of the curve?

    .venv/bin/python experiments/staffing_knee.py            # run the sweep if needed, draw
    .venv/bin/python experiments/staffing_knee.py --no-run   # redraw from the store only

Store: runs/staffing_knee (``--store``). Figure: experiments/figures/staffing_knee.png.
The knee is found two ways on the falling part of each curve (from its peak on): Kneedle (the
point farthest below the chord from the peak to the last point, in normalised units) and the
fewest mediators whose mean caused-escalation share (the headline since issue 10) is within 10%
of the best level on the curve. The escalated and lapsed shares are printed beside it.
"""

from __future__ import annotations

import sys

import _common as common  # first: puts this checkout's sim ahead of an installed one
import numpy as np

NAME = "staffing_knee"
X, HUE = "levers.mediators_per_street", "levers.centre_staff_per_street"
Y, (ESC, LAP) = common.HEADLINE, common.SECONDARY


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
    args, _, s = common.start(NAME, __doc__, argv, [Y, ESC, LAP, "collective_incidents",
                                                        "backlog"])
    fig, (ax, ax2) = common.two_panels((3, 2))
    for hue, g, x, y in common.groups(s, Y, HUE, X):
        color = common.curve(ax, x, g, f"{hue} centre staff / street")
        common.dashed(ax, s, ESC, HUE, hue, X, color)
        kn, w10 = knee(x, y)
        ax.axvline(kn, color=color, ls=":", lw=1)
        print(f"  centre staff {hue}: peak {100 * y.max():.1f}% at {x[np.argmax(y)]:g} "
              f"mediators, best {100 * y.min():.1f}% at {x[np.argmin(y)]:g}; knee (Kneedle) "
              f"{kn:g} mediators, within 10% of best from {w10:g}")
        for xi, yi, lo, hi in zip(x, y, g["ci_lo"], g["ci_hi"], strict=True):
            at = {X: xi, HUE: hue}
            print(f"    mediators {xi:>4g}: caused {100 * yi:6.2f}%  [{100 * lo:6.2f}, "
                  f"{100 * hi:6.2f}]  escalated {100 * common.value(s, ESC, **at):5.2f}%  lapsed "
                  f"{100 * common.value(s, LAP, **at):5.2f}%  backlog "
                  f"{common.value(s, 'backlog', **at):6.1f}")
    common.label(ax, "people's mediators per street", common.CAUSED,
                 "Caused escalations against mediation staffing\n(dashed: escalated share; dotted: knee)")
    b = s[(s.kpi == "backlog") & (s[HUE] == 4)].sort_values(X)
    ax2.plot(b[X], b["mean"], marker="o", ms=4, color="k")
    ax2.fill_between(b[X], b["ci_lo"].clip(lower=0), b["ci_hi"], color="k", alpha=0.15, lw=0)
    common.label(ax2, "people's mediators per street", "open cases at the end (backlog)",
                 "Backlog, 4 centre staff / street", legend=False)
    fig.suptitle("Town (100,000 residents), 180 days, 4 replications per point", fontsize=9)
    return common.save(fig, args.out)


if __name__ == "__main__":
    sys.exit(main())
