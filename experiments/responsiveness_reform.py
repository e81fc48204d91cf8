"""Responsiveness reform (接诉即办) against the baseline: does demand answer responsiveness?

    .venv/bin/python experiments/responsiveness_reform.py --workers 2    # run (if needed), draw
    .venv/bin/python experiments/responsiveness_reform.py --no-run       # redraw from the store only

``responsiveness_reform`` and ``baseline`` run with ``city.residents = 100000`` for 365 days on
the same seeds (``SeedSequence(505, spawn_key=(r,))``, r = 0 .. reps-1, the seeds of
policy_scenarios.py, whose runner this script reuses) through ``sim.run``.
Per KPI: the mean paired difference (reform − baseline, seed by seed) with a 95% paired
t-interval. The question (issue 11): under a reform that only makes the city faster and surer,
do residents bring more grievances to the city (``reported_cases`` up) while the underlying
grievance rate (``emerged_cases``) does not move, and do they lump less?
Store: runs/responsiveness_reform/runs.parquet. Figure: experiments/figures/responsiveness_reform.png.
"""

from __future__ import annotations

import argparse
import sys

import _common as common  # first: puts this checkout's sim ahead of an installed one
import numpy as np
from policy_scenarios import one, paired

NAME, ARMS = "responsiveness_reform", ("baseline", "responsiveness_reform")
OPTIONS = ("lump", "negotiate", "grid", "hotline", "mediation", "court", "petition", "public")
KPIS = ["emerged_cases", "reported_cases", "cases_total", "lumped_share", "channel_shares.lump",
        "channel_shares.hotline", "petitions", "public_incidents", "median_hours_to_resolution",
        "mean_trust", "resolved_share", "caused_escalation_share", "staff_cost"]


def _options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--reps", type=int, default=10, help="seeds per arm (default 10)")


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(NAME, __doc__, argv, _options)
    runs = common.run_arms(args, list(ARMS), one, args.reps)
    reps = runs.rep.nunique()
    print(f"{NAME}: {len(runs)} runs, {reps} seeds per arm, town size, 365 days")
    means = runs.groupby("scenario").mean(numeric_only=True)
    print("| KPI | baseline | reform | reform − baseline [95% paired CI] | relative |")
    print("|---|---|---|---|---|")
    diffs = {}
    for k in KPIS:
        m, lo, hi, _p = paired(runs, ARMS[1], ARMS[0], k)
        diffs[k] = (m, lo, hi)
        base = means.loc[ARMS[0], k]
        rel = f"{100 * m / base:+.1f}%" if base else "—"
        print(f"| {k} | {base:.4g} | {means.loc[ARMS[1], k]:.4g} | {m:+.4g} [{lo:+.4g}, {hi:+.4g}] | {rel} |")

    plt = common.pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    shares = means[[f"channel_shares.{o}" for o in OPTIONS]]
    left = np.zeros(len(ARMS))
    colors = plt.get_cmap("tab10").colors
    for i, o in enumerate(OPTIONS):
        v = shares[f"channel_shares.{o}"].reindex(list(ARMS)).to_numpy()
        ax1.barh(range(len(ARMS)), v, left=left, color=colors[i], label=o)
        left += v
    ax1.set_yticks(range(len(ARMS)), ARMS)
    ax1.set_xlabel("share of residents' choices")
    ax1.legend(ncol=4, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18))
    ax1.set_title("Where residents take their grievances", fontsize=9)
    show = ["emerged_cases", "reported_cases", "petitions", "public_incidents"]
    for y, k in enumerate(show[::-1]):
        base = means.loc[ARMS[0], k]
        m, lo, hi = (100 * x / base for x in diffs[k])
        ax2.errorbar(m, y, xerr=[[m - lo], [hi - m]], fmt="o", capsize=3,
                     color="grey" if lo <= 0 <= hi else "tab:blue")
    ax2.axvline(0, color="k", lw=0.7)
    ax2.set_yticks(range(len(show)), show[::-1])
    ax2.set_xlabel("reform − baseline, % of baseline (95% paired CI)")
    ax2.set_title(f"Paired seeds ({reps}), town size, 365 days", fontsize=9)
    ax2.grid(alpha=0.3)
    fig.tight_layout()
    return common.save(fig, args.out)


if __name__ == "__main__":
    sys.exit(main())
