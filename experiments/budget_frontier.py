"""Experiment 4 — the best staffing mix under a fixed budget: the cost-effectiveness frontier.

    .venv/bin/python experiments/budget_frontier.py            # run the sweep if needed, draw
    .venv/bin/python experiments/budget_frontier.py --no-run   # redraw from the store only

Store: runs/budget_frontier (``--store``). Figure: experiments/figures/budget_frontier.png.
Every Latin-hypercube point is a staffing mix with a staff cost and a mean caused-escalation share
(the headline since issue 10; the escalated and lapsed shares are printed beside it); the
frontier is the set of mixes that no cheaper mix beats. The budget is the staff cost of the
town's baseline mix, whose KPIs the script measures with ``--confirm`` fresh replications (as it
does for the best mix within budget, since picking the minimum of noisy means flatters it).
"""

from __future__ import annotations

import argparse
import sys

import _common as common  # first: puts this checkout's sim ahead of an installed one
import numpy as np
import pandas as pd

NAME = "budget_frontier"
Y, C = common.HEADLINE, "staff_cost"
ESC, LAP = common.SECONDARY
SHORT = {"levers.grid_workers_per_grid": "grid workers/grid",
         "levers.mediators_per_street": "mediators/street",
         "levers.centre_staff_per_street": "centre staff/street",
         "levers.department_staff": "department staff"}


def frontier(cost: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Indices of the cost-effectiveness frontier (no cheaper point has a lower y), by cost."""
    order = np.argsort(cost, kind="stable")
    keep, best = [], np.inf
    for i in order:
        if y[i] < best:
            keep.append(i)
            best = y[i]
    return np.array(keep, dtype=int)


def confirm(mix: dict[str, float], spec_days: int, reps: int, tag: int) -> pd.DataFrame:
    """Fresh replications of one mix (seed stream apart from the sweep's)."""
    import sim

    rows = [sim.run("town", mix, seed=np.random.SeedSequence(404, spawn_key=(10_000 + tag, r)),
                    days=spec_days) for r in range(reps)]
    return pd.DataFrame(rows)


def _ci(v: pd.Series) -> str:
    """Mean and 95% t-interval of a share, in %."""
    from scipy import stats

    half = stats.t.ppf(0.975, len(v) - 1) * v.std() / np.sqrt(len(v))
    return f"{100 * v.mean():.2f}% [{100 * (v.mean() - half):.2f}, {100 * (v.mean() + half):.2f}]"


def _options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--confirm", type=int, default=6, help="fresh replications (0 = skip)")


def main(argv: list[str] | None = None) -> int:
    args, res, s = common.start(NAME, __doc__, argv, [Y, ESC, LAP, C, "collective_incidents"],
                                _options,
                                header=False)
    w = s.pivot_table(index=["point_id", *res.params], columns="kpi", values="mean").reset_index()
    cost, y = w[C].to_numpy() / 1e6, w[Y].to_numpy()
    front = frontier(cost, y)
    import sim

    base_mix = {k: sim.load_scenario("town").get(k) for k in res.params}
    base = confirm(base_mix, res.spec.days, max(args.confirm, 2), 0)
    budget = float(base[C].mean()) / 1e6
    inside = np.flatnonzero(cost <= budget)
    best = int(inside[np.argmin(y[inside])])
    best_mix = {k: w.loc[best, k].item() for k in res.params}
    print(f"{NAME}: {len(res.runs)} runs ({res.missing} missing), {len(w)} mixes, "
          f"{len(front)} on the frontier")
    print(f"  baseline mix {base_mix}: cost {budget:.2f} M yuan, caused {_ci(base[Y])}, "
          f"escalated {_ci(base[ESC])}, lapsed {_ci(base[LAP])} ({len(base)} fresh runs)")
    print(f"  best within budget (sweep mean of {res.spec.replications}): {best_mix}: cost "
          f"{cost[best]:.2f} M, caused {100 * y[best]:.2f}%, escalated {100 * w.loc[best, ESC]:.2f}%")
    if args.confirm:
        chk = confirm(best_mix, res.spec.days, args.confirm, 1)
        print(f"    confirmed with {len(chk)} fresh runs: caused {_ci(chk[Y])}, escalated "
              f"{_ci(chk[ESC])}, collective incidents "
              f"{chk['collective_incidents'].mean():.0f} vs baseline "
              f"{base['collective_incidents'].mean():.0f}")
    match = [int(i) for i in front if y[i] <= base[Y].mean()]
    cheap = match[0] if match else best
    cheap_mix = {k: w.loc[cheap, k].item() for k in res.params}
    print(f"  cheapest frontier mix at or below the baseline's escalation (sweep mean): "
          f"{cheap_mix}: cost {cost[cheap]:.2f} M ({100 * (cost[cheap] / budget - 1):+.0f}%), "
          f"caused {100 * y[cheap]:.2f}%")
    if args.confirm:
        chk = confirm(cheap_mix, res.spec.days, args.confirm, 2)
        print(f"    confirmed with {len(chk)} fresh runs: caused {_ci(chk[Y])}, escalated "
              f"{_ci(chk[ESC])}, collective incidents {chk['collective_incidents'].mean():.0f}")
    print("  frontier (cost M yuan, caused %, escalated %, mix):")
    for i in front:
        mix = ", ".join(f"{SHORT.get(k, k)} {w.loc[i, k]:g}" for k in res.params)
        print(f"    {cost[i]:6.2f}  {100 * y[i]:5.2f}%  {100 * w.loc[i, ESC]:5.2f}%  {mix}")

    plt = common.pyplot()

    fig, ax = plt.subplots(figsize=(8.5, 4.6))
    sc = ax.scatter(cost, 100 * y, c=w["levers.grid_workers_per_grid"], cmap="viridis", s=22,
                    alpha=0.8)
    fig.colorbar(sc, ax=ax, label="grid workers per grid")
    ax.step(cost[front], 100 * y[front], where="post", color="k", lw=1.2, label="frontier")
    ax.axvline(budget, color="tab:red", ls="--", lw=1, label="budget = baseline cost")
    ax.scatter([budget], [100 * base[Y].mean()], marker="*", s=180, color="tab:red",
               zorder=5, label="baseline mix")
    ax.scatter([cost[best]], [100 * y[best]], s=160, facecolors="none", edgecolors="tab:red",
               lw=1.5, zorder=5, label="best mix within budget")
    if cheap != best:
        ax.scatter([cost[cheap]], [100 * y[cheap]], s=160, marker="s", facecolors="none",
                   edgecolors="tab:blue", lw=1.5, zorder=5,
                   label="cheapest mix as good as the baseline")
    ax.set_xlabel("staff cost, million yuan (180 days)")
    ax.set_ylabel("caused escalations, % of cases  (mean of 2 runs)")
    ax.set_ylim(0, None)
    ax.set_title("Staffing mixes: caused escalations against cost (Latin hypercube, 96 mixes)",
                 fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="upper right")
    return common.save(fig, args.out)


if __name__ == "__main__":
    sys.exit(main())
