"""Policy scenarios against the baseline, town size, one year, common random numbers.

    .venv/bin/python experiments/policy_scenarios.py --workers 2      # run (if needed), draw
    .venv/bin/python experiments/policy_scenarios.py --no-run         # redraw from the store only

Every scenario in ``SCENARIOS`` and the baseline run with ``city.residents = 100000`` for 365
days on the same seeds (``SeedSequence(SEED, spawn_key=(r,))``, r = 0 .. reps-1), through the
one evaluator ``sim.run``. Per scenario and KPI: the mean paired difference (scenario − reference,
seed by seed) with a 95% paired t-interval. three_level_linkage is also compared against
spring_festival_arrears (the same shock). Store: runs/policy_scenarios/runs.parquet.
Figure: experiments/figures/policy_scenarios.png (forest plot).
"""

from __future__ import annotations

import argparse
import sys
import time

import _common as common  # first: puts this checkout's sim ahead of an installed one
import numpy as np
import pandas as pd

NAME, SEED, DAYS, PARAMS = "policy_scenarios", 505, 365, {"city.residents": 100_000}
SCENARIOS = ["merged_grids", "fengqiao", "shared_platform", "understaffed",
             "spring_festival_arrears", "clear_responsibility", "smart_video",
             "three_level_linkage", "source_prevention"]
#: (scenario, reference) pairs compared.
PAIRS = [(s, "baseline") for s in SCENARIOS] + [("three_level_linkage",
                                                  "spring_festival_arrears")]
KPIS = ["caused_escalation_share", "escalated_share", "resolved_share",
        "median_hours_to_resolution", "backlog", "lapsed_share", "mean_trust", "safety_index",
        "staff_cost"]
SHARES = {"caused_escalation_share", "escalated_share", "resolved_share", "lapsed_share"}


def one(task: tuple[str, int]) -> dict:
    import sim

    scenario, r = task
    t = time.perf_counter()
    out = sim.run(scenario, PARAMS, seed=np.random.SeedSequence(SEED, spawn_key=(r,)), days=DAYS)
    return {"scenario": scenario, "rep": r, **out, "wall_seconds": time.perf_counter() - t}


def paired(runs: pd.DataFrame, a: str, b: str, kpi: str) -> tuple[float, float, float, float]:
    """(mean of a − b, CI low, CI high, p) over the seeds both arms ran."""
    from scipy import stats

    w = runs.pivot_table(index="rep", columns="scenario", values=kpi)[[a, b]].dropna()
    d = (w[a] - w[b]).to_numpy()
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    p = stats.ttest_1samp(d, 0).pvalue if d.std() > 0 else (0.0 if d.mean() else 1.0)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half), float(p)


def sign(kpi: str) -> int:
    """+1 if higher is better, −1 if lower is better (staff cost counts as lower)."""
    from sim.outcomes.registry import direction

    return -1 if kpi == "staff_cost" else direction(kpi).sign


def fmt(kpi: str, v: float) -> str:
    if kpi in SHARES:
        return f"{100 * v:+.2f} pp"
    if kpi == "staff_cost":
        return f"{v / 1e6:+.2f} M"
    return f"{v:+.3f}" if kpi == "mean_trust" else f"{v:+.1f}"


def verdict(rows: pd.DataFrame) -> str:
    """One line: which KPIs got clearly better or worse (95% CI excludes 0)."""
    better = [k for k, r in rows.iterrows() if r.lo > 0 or r.hi < 0 if sign(k) * r["mean"] > 0]
    worse = [k for k, r in rows.iterrows() if r.lo > 0 or r.hi < 0 if sign(k) * r["mean"] < 0]
    c = rows.loc["caused_escalation_share"]
    head = ("fewer caused escalations" if c.hi < 0 else "more caused escalations" if c.lo > 0
            else "no detectable change in caused escalations")
    return (f"{head}; better: {', '.join(better) or '—'}; worse: {', '.join(worse) or '—'}")


def _options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--reps", type=int, default=10, help="seeds per arm (default 10)")


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(NAME, __doc__, argv, _options)
    runs = common.run_arms(args, ["baseline", *SCENARIOS], one, args.reps)
    reps = runs.rep.nunique()
    print(f"{NAME}: {len(runs)} runs, {reps} seeds per arm, town, {DAYS} days")
    base = runs[runs.scenario == "baseline"][KPIS].mean()
    print("  baseline means: " + ", ".join(
        f"{k} {100 * base[k]:.2f}%" if k in SHARES else f"{k} {base[k]:.4g}" for k in KPIS))
    table = {}
    for a, b in PAIRS:
        rows = pd.DataFrame([paired(runs, a, b, k) for k in KPIS], index=KPIS,
                            columns=["mean", "lo", "hi", "p"])
        table[(a, b)] = rows
        print(f"\n  {a} − {b}: {verdict(rows)}")
        for k, r in rows.iterrows():
            print(f"    {k:28s} {fmt(k, r['mean']):>12s}  [{fmt(k, r.lo)}, {fmt(k, r.hi)}]")
    print("\n| scenario (vs) | " + " | ".join(KPIS) + " | verdict |")
    print("|---" * (len(KPIS) + 2) + "|")
    for (a, b), rows in table.items():
        cells = [f"{fmt(k, r['mean'])} [{fmt(k, r.lo).split()[0]}, {fmt(k, r.hi).split()[0]}]"
                 for k, r in rows.iterrows()]
        print(f"| {a} (vs {b}) | " + " | ".join(cells) + f" | {verdict(rows)} |")

    plt = common.pyplot()
    show = ["caused_escalation_share", "escalated_share", "resolved_share", "lapsed_share",
            "median_hours_to_resolution", "backlog", "mean_trust", "safety_index", "staff_cost"]
    fig, axes = plt.subplots(3, 3, figsize=(12, 9.5), sharey=True)
    labels = [f"{a}" if b == "baseline" else f"{a}\n(vs {b})" for a, b in table]
    ypos = np.arange(len(labels))[::-1]
    for ax, k in zip(axes.flat, show, strict=True):
        scale = 100 if k in SHARES else 1e-6 if k == "staff_cost" else 1
        for y, rows in zip(ypos, table.values(), strict=True):
            r = rows.loc[k]
            sig = r.lo > 0 or r.hi < 0
            good = sign(k) * r["mean"] > 0
            color = ("tab:green" if good else "tab:red") if sig else "grey"
            ax.errorbar(scale * r["mean"], y, xerr=[[scale * (r["mean"] - r.lo)],
                                                    [scale * (r.hi - r["mean"])]],
                        fmt="o", ms=4, color=color, capsize=2)
        ax.axvline(0, color="k", lw=0.7)
        unit = " (pp)" if k in SHARES else " (M yuan)" if k == "staff_cost" else ""
        ax.set_title(f"{k}{unit}", fontsize=9)
        ax.grid(alpha=0.3)
        ax.set_yticks(ypos, labels, fontsize=7.5)
    fig.suptitle(f"Paired difference vs reference, mean and 95% paired t-interval (town, "
                 f"{DAYS} days, {reps} common seeds); green = better, red = worse, "
                 f"grey = CI spans 0", fontsize=9)
    return common.save(fig, args.out)


if __name__ == "__main__":
    sys.exit(main())
