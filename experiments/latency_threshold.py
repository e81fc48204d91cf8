"""Experiment 2 — information latency: the threshold beyond which escalations take off.

    .venv/bin/python experiments/latency_threshold.py            # run the sweep if needed, draw
    .venv/bin/python experiments/latency_threshold.py --no-run   # redraw from the store only

Store: runs/latency_threshold (``--store``). Figure: experiments/figures/latency_threshold.png.
The headline is the caused-escalation share (severity rose after emergence; issue 10), with the
escalated and lapsed shares printed beside it.
Two readings of "the threshold" per curve: the latency at which the mean caused share has
doubled from its zero-latency value (linear interpolation between grid points), and the Kneedle
knee (the point farthest below the chord from the first to the last point, normalised units).
"""

from __future__ import annotations

import sys

import _common as common  # first: puts this checkout's sim ahead of an installed one
import numpy as np

NAME = "latency_threshold"
X, HUE = "levers.latency_hours_per_hop", "world.escalation_growth_per_day"
Y, (ESC, LAP) = common.HEADLINE, common.SECONDARY


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
    args, _, s = common.start(NAME, __doc__, argv,
                              [Y, ESC, LAP, "median_hours_to_resolution", "mean_trust"])
    fig, (ax, ax2) = common.two_panels((3, 2))
    for hue, g, x, y in common.groups(s, Y, HUE, X):
        color = common.curve(ax, x, g, f"hazard growth {hue:g} / day")
        common.dashed(ax, s, ESC, HUE, hue, X, color)
        d2, kn = doubling(x, y), kneedle_up(x, y)
        ax.axvline(d2, color=color, ls=":", lw=1)
        print(f"  growth {hue:g}/day: {100 * y[0]:.2f}% at 0 h -> {100 * y[-1]:.1f}% at "
              f"{x[-1]:g} h; doubles at {d2:.0f} h/hop; Kneedle knee {kn:g} h/hop")
        for xi, yi, lo, hi in zip(x, y, g["ci_lo"], g["ci_hi"], strict=True):
            at = {X: xi, HUE: hue}
            print(f"    {xi:>5g} h: caused {100 * yi:6.2f}%  [{100 * lo:6.2f}, {100 * hi:6.2f}]  "
                  f"escalated {100 * common.value(s, ESC, **at):5.2f}%  "
                  f"lapsed {100 * common.value(s, LAP, **at):5.2f}%")
        m = s[(s.kpi == "median_hours_to_resolution") & (s[HUE] == hue)].sort_values(X)
        ax2.plot(m[X], m["mean"], marker="o", ms=3, color=color)
        slope, icept = np.polyfit(m[X].to_numpy(float), m["mean"].to_numpy(), 1)
        print(f"    median hours to resolution ~ {icept:.0f} + {slope:.2f} x latency per hop")
    common.label(ax, "information latency per reporting hop, hours", common.CAUSED,
                 "Caused escalations against latency\n(dashed: escalated share; dotted: doubled)")
    common.label(ax2, "information latency per reporting hop, hours",
                 "median hours to resolution", "Time to resolution", legend=False)
    fig.suptitle("Town (100,000 residents), 180 days, 3 replications per point", fontsize=9)
    return common.save(fig, args.out)


if __name__ == "__main__":
    sys.exit(main())
