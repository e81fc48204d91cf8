"""Experiment 3 — the value of resource integration (多网合一 / shared data).

    .venv/bin/python experiments/integration_value.py            # run the sweep if needed, draw
    .venv/bin/python experiments/integration_value.py --no-run   # redraw from the store only

Store: runs/integration_value (``--store``). Figure: experiments/figures/integration_value.png.
Left: caused-escalation share (the headline since issue 10; dashed: escalated share) against
integration for three silo penalties. Right: what integration buys
against what it costs — collective incidents avoided (vs. no integration, same silo penalty)
against the extra staff-and-platform cost, each point an integration level.
"""

from __future__ import annotations

import sys

import _common as common  # first: puts this checkout's sim ahead of an installed one

NAME = "integration_value"
X, HUE = "levers.resource_integration", "levers.silo_penalty_hours"
Y, (ESC, LAP) = common.HEADLINE, common.SECONDARY
KPIS = [Y, ESC, LAP, "collective_incidents", "median_hours_to_resolution",
        "mean_detection_delay_hours", "misrouted_share", "staff_cost"]


def main(argv: list[str] | None = None) -> int:
    args, _, s = common.start(NAME, __doc__, argv, KPIS)
    wide = s.pivot_table(index=[HUE, X], columns="kpi", values="mean").reset_index()
    fig, (ax, ax2) = common.two_panels()
    for hue, g, x, _ in common.groups(s, Y, HUE, X):
        color = common.curve(ax, x, g, f"silo penalty {hue:g} h")
        common.dashed(ax, s, ESC, HUE, hue, X, color)
        w = wide[wide[HUE] == hue].sort_values(X)
        base = w.iloc[0]
        extra_cost = (w["staff_cost"] - base["staff_cost"]) / 1e6
        avoided = base["collective_incidents"] - w["collective_incidents"]
        ax2.plot(extra_cost, avoided, marker="o", ms=4, color=color,
                 label=f"silo penalty {hue:g} h")
        top = w.iloc[-1]
        print(f"  silo penalty {hue:g} h, integration 0 -> 1: caused "
              f"{100 * base[Y]:.2f}% -> {100 * top[Y]:.2f}%, escalated "
              f"{100 * base[ESC]:.2f}% -> {100 * top[ESC]:.2f}%, lapsed "
              f"{100 * base[LAP]:.2f}% -> {100 * top[LAP]:.2f}%, "
              f"collective incidents {base['collective_incidents']:.0f} -> "
              f"{top['collective_incidents']:.0f}, median hours "
              f"{base['median_hours_to_resolution']:.0f} -> "
              f"{top['median_hours_to_resolution']:.0f}, detection delay "
              f"{base['mean_detection_delay_hours']:.0f} -> "
              f"{top['mean_detection_delay_hours']:.0f} h, misrouted "
              f"{100 * base['misrouted_share']:.2f}% -> {100 * top['misrouted_share']:.2f}%, "
              f"cost +{(top['staff_cost'] - base['staff_cost']) / 1e6:.2f} M yuan "
              f"(of {base['staff_cost'] / 1e6:.2f} M)")
        for _, r in w.iterrows():
            print(f"    integration {r[X]:.1f}: caused {100 * r[Y]:5.2f}%  "
                  f"escalated {100 * r[ESC]:5.2f}%  lapsed {100 * r[LAP]:5.2f}%  "
                  f"collective {r['collective_incidents']:6.1f}  "
                  f"median h {r['median_hours_to_resolution']:6.1f}  "
                  f"cost {r['staff_cost'] / 1e6:6.2f} M")
    common.label(ax, "resource integration (0 = separate grids and platforms, 1 = one)",
                 common.CAUSED, "Caused escalations against integration (dashed: escalated)")
    ax2.axhline(0, color="k", lw=0.6)
    common.label(ax2, "extra cost vs. no integration, million yuan (180 days)",
                 "collective incidents avoided (180 days)",
                 "What integration buys (points: integration 0, 0.1, ..., 1)")
    fig.suptitle("Town (100,000 residents), 180 days, 4 replications per point", fontsize=9)
    return common.save(fig, args.out)


if __name__ == "__main__":
    sys.exit(main())
