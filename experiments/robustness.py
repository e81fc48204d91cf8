"""Headline findings across the calibrated parameter uncertainty (issue 12 item 5).

    PYTHONPATH=$PWD .venv/bin/python experiments/robustness.py --draws 20 --reps 5 --workers 2

Draws ``--draws`` parameter sets from ``calibration/fitted/china_fit.json``
(:func:`sim.calibrate.draws.parameter_draws`: the fit's delta-method normal; a parameter the
fit could not identify is drawn uniformly over its bounds). For every draw, the arms of each
headline comparison run on the same seeds (``SeedSequence(505, spawn_key=(r,))``, the seeds of
policy_scenarios.py) at town size (``city.residents = 100000``) with the draw's parameters set
on top of the scenario. Per comparison: the mean paired difference per draw, and the share of
draws whose mean difference has the headline's sign (and the share beyond two paired s.e.).

Headlines checked (``HEADLINES``, each against the baseline at town size, 365 days): experiment
1's "no mediators is the worst setting" (0 mediators per street against 6), experiment 3's
"integration lowers caused escalations" (1.0 against 0.3), experiment 5's strongest lever
(merged grids) and its worst scenario (understaffed), and experiment 8's reform raising reported
cases and lowering caused escalations. Store: runs/robustness/runs.parquet.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor

import _common as common  # first: puts this checkout's sim ahead of an installed one
import numpy as np
import pandas as pd

NAME, SEED, FIT = "robustness", 505, common.ROOT / "calibration" / "fitted" / "china_fit.json"
#: arm name → (scenario, parameters set on top of it, besides the draw's).
ARMS: dict[str, tuple[str, dict[str, float]]] = {
    "baseline": ("baseline", {}),
    "merged_grids": ("merged_grids", {}),
    "understaffed": ("understaffed", {}),
    "responsiveness_reform": ("responsiveness_reform", {}),
    "no_mediators": ("baseline", {"levers.mediators_per_street": 0}),
    "full_integration": ("baseline", {"levers.resource_integration": 1.0}),
}
#: (label, arm, reference arm, KPI, expected sign of arm − reference).
HEADLINES = [("exp 1: no mediators raise caused escalations", "no_mediators", "baseline",
              "caused_escalation_share", +1),
             ("exp 3: full integration lowers caused escalations", "full_integration",
              "baseline", "caused_escalation_share", -1),
             ("exp 5: merged grids lower caused escalations", "merged_grids", "baseline",
              "caused_escalation_share", -1),
             ("exp 5: understaffing raises caused escalations", "understaffed", "baseline",
              "caused_escalation_share", +1),
             ("exp 8: the reform raises reported cases", "responsiveness_reform", "baseline",
              "reported_cases", +1),
             ("exp 8: the reform lowers caused escalations", "responsiveness_reform", "baseline",
              "caused_escalation_share", -1)]


def one(task: tuple[int, dict[str, float], str, int, int]) -> dict:
    import sim

    draw, params, arm, r, days = task
    scenario, extra = ARMS[arm]
    t = time.perf_counter()
    out = sim.run(scenario, {"city.residents": 100_000, **params, **extra},
                  seed=np.random.SeedSequence(SEED, spawn_key=(r,)), days=days)
    return {"draw": draw, "scenario": arm, "rep": r, **params,
            **{k: out[k] for k in {h[3] for h in HEADLINES}},
            "wall_seconds": time.perf_counter() - t}


def agreement(runs: pd.DataFrame) -> pd.DataFrame:
    """Per headline and draw: the mean paired difference, its s.e., and whether it agrees."""
    rows = []
    for label, a, b, kpi, sgn in HEADLINES:
        for draw, g in runs.groupby("draw"):
            w = g.pivot_table(index="rep", columns="scenario", values=kpi)[[a, b]].dropna()
            d = (w[a] - w[b]).to_numpy()
            se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
            rows.append({"headline": label, "draw": draw, "mean": d.mean(), "se": se,
                         "agrees": bool(sgn * d.mean() > 0),
                         "clear": bool(sgn * d.mean() > 2 * se)})
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    from sim.calibrate.draws import parameter_draws

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=20, help="parameter draws (default 20)")
    ap.add_argument("--reps", type=int, default=5, help="common seeds per draw (default 5)")
    ap.add_argument("--days", type=int, default=365, help="simulated days (default 365)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--draw-seed", type=int, default=0)
    args = ap.parse_args(argv)
    for field, v, lo in (("--draws", args.draws, 1), ("--reps", args.reps, 2),
                         ("--days", args.days, 1), ("--workers", args.workers, 1)):
        if v < lo:
            print(f"{field}: {v} is out of range (allowed: an integer >= {lo})", file=sys.stderr)
            return 2
    draws = parameter_draws(FIT, args.draws, seed=args.draw_seed)
    arms = list(ARMS)
    tasks = [(i, p, s, r, args.days) for i, p in enumerate(draws) for s in arms
             for r in range(args.reps)]
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as ex:
        runs = pd.DataFrame(list(ex.map(one, tasks)))
    store = common.ROOT / "runs" / NAME
    store.mkdir(parents=True, exist_ok=True)
    runs.to_parquet(store / "runs.parquet")
    print(f"{NAME}: {len(runs)} runs in {time.perf_counter() - t0:.0f} s; {args.draws} draws "
          f"from {FIT.name} (seed {args.draw_seed}), {args.reps} common seeds, {args.days} days")
    print(pd.DataFrame(draws).round(4).to_string())
    ag = agreement(runs)
    with pd.option_context("display.width", 200):
        print(ag.round(5).to_string(index=False))
    for label, g in ag.groupby("headline", sort=False):
        print(f"{label}: {g.agrees.sum()}/{len(g)} draws agree in direction "
              f"({g.clear.sum()}/{len(g)} beyond 2 paired s.e.); mean difference over draws "
              f"{g['mean'].mean():+.4g} (range {g['mean'].min():+.4g} … {g['mean'].max():+.4g})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
