"""Experiment 3 — the value of resource integration (多网合一 / shared data).

    .venv/bin/python experiments/integration_value.py            # run the sweep if needed, draw
    .venv/bin/python experiments/integration_value.py --no-run   # redraw from the store only

Store: runs/integration_value (``--store``). Figure: experiments/figures/integration_value.png.
Left: escalated share against integration for three silo penalties. Right: what integration buys
against what it costs — collective incidents avoided (vs. no integration, same silo penalty)
against the extra staff-and-platform cost, each point an integration level.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.sweep import load_results, load_spec, run_sweep, summarize  # noqa: E402

NAME = "integration_value"
X, HUE = "levers.resource_integration", "levers.silo_penalty_hours"
KPIS = ["escalated_share", "collective_incidents", "median_hours_to_resolution",
        "mean_detection_delay_hours", "misrouted_share", "staff_cost"]


def ensure(store: Path, workers: int | None, run: bool) -> None:
    """Run (or finish) the sweep into ``store`` unless told not to."""
    if run:
        run_sweep(load_spec(HERE / f"{NAME}.toml"), store, executor="local", workers=workers,
                  resume=(store / "manifest.json").exists())


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
    s = summarize(res.runs, res.params, KPIS)
    wide = s.pivot_table(index=[HUE, X], columns="kpi", values="mean").reset_index()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4))
    print(f"{NAME}: {len(res.runs)} runs ({res.missing} missing)")
    for hue, g in s[s.kpi == "escalated_share"].groupby(HUE):
        g = g.sort_values(X)
        (line,) = ax.plot(g[X], 100 * g["mean"], marker="o", ms=4,
                          label=f"silo penalty {hue:g} h")
        ax.fill_between(g[X], 100 * g["ci_lo"].clip(lower=0), 100 * g["ci_hi"],
                        color=line.get_color(), alpha=0.2, lw=0)
        w = wide[wide[HUE] == hue].sort_values(X)
        base = w.iloc[0]
        extra_cost = (w["staff_cost"] - base["staff_cost"]) / 1e6
        avoided = base["collective_incidents"] - w["collective_incidents"]
        ax2.plot(extra_cost, avoided, marker="o", ms=4, color=line.get_color(),
                 label=f"silo penalty {hue:g} h")
        top = w.iloc[-1]
        print(f"  silo penalty {hue:g} h, integration 0 -> 1: escalated "
              f"{100 * base['escalated_share']:.2f}% -> {100 * top['escalated_share']:.2f}%, "
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
            print(f"    integration {r[X]:.1f}: escalated {100 * r['escalated_share']:5.2f}%  "
                  f"collective {r['collective_incidents']:6.1f}  "
                  f"median h {r['median_hours_to_resolution']:6.1f}  "
                  f"cost {r['staff_cost'] / 1e6:6.2f} M")
    ax.set_xlabel("resource integration (0 = separate grids and platforms, 1 = one)")
    ax.set_ylabel("escalated share of cases, %  (mean, 95% CI)")
    ax.set_title("Escalation against integration", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax2.axhline(0, color="k", lw=0.6)
    ax2.set_xlabel("extra cost vs. no integration, million yuan (180 days)")
    ax2.set_ylabel("collective incidents avoided (180 days)")
    ax2.set_title("What integration buys (points: integration 0, 0.1, ..., 1)", fontsize=10)
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=8)
    fig.suptitle("Town (100,000 residents), 180 days, 4 replications per point", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=130)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
