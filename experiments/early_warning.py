"""Experiment 6 — early warning (预测预警): how good is the forecast, and what is acting on it worth?

    .venv/bin/python experiments/early_warning.py --workers 2      # run (if needed), draw
    .venv/bin/python experiments/early_warning.py --no-run         # redraw from the store only

Part 1, skill (``town``, no visits, 270 days): a learned forecaster (logistic regression on the
observable features, :mod:`sim.warning.learn`; gradient boosting fitted to the same data is
scored beside it as "boosting") trained on the histories of seeds 1001–1004 is
scored on seeds 0 .. reps-1 beside the smoothed report count and the naive forecast (last 4
weeks' hotspots stay hot), and beside an *oracle* that reads the hidden hazards of every open
case (not available to a city: the ceiling the noise leaves). Per seed: AUC, precision and
recall at the 10% inspection budget, lead time; the paired difference learned − naive with a
95% t-interval; a calibration curve for the learned probabilities and for the naive count made
a frequency (P(event | count), estimated on the other evaluation seeds).

Part 2, value of information (``town``, 180 days, common random numbers: the same seeds in
every arm): no visits, and ``VISITS`` pre-emptive visits per week directed by the naive, the
smoothed or the learned forecast, or to grids drawn at random (a control: what visiting is
worth without any forecast). Per arm against no visits: caused escalations avoided, extra
cost (visits are costed mediator time), yuan per caused escalation avoided; and learned against
naive. Store: runs/early_warning/{skill,value}.parquet. Figure:
experiments/figures/early_warning.png.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import _common as common  # first: puts this checkout's sim ahead of an installed one
import numpy as np
import pandas as pd

NAME, SKILL_DAYS, VALUE_DAYS, VISITS = "early_warning", 270, 180, 30
TRAIN_SEEDS = (1001, 1002, 1003, 1004)
ARMS = ("none", "random", "naive", "smoothed", "learned")
BUDGET = 0.1


def _trained() -> tuple[Any, Any]:
    """The logistic forecaster (the one that acts) and gradient boosting, fitted to the same
    training histories."""
    from sim.warning import learn

    xs, ys = zip(*(learn.history("town", s, SKILL_DAYS) for s in TRAIN_SEEDS), strict=True)
    x, y = np.concatenate(xs), np.concatenate(ys)
    return learn.fit(x, y, "logistic"), learn.fit(x, y, "boosting")


def skill(task: tuple[int, Any]) -> dict[str, Any]:
    """One evaluation seed: scores of every method (and the oracle) and their labels."""
    import sim
    from sim.warning.scoring import at_budget, auc, by_community, lead_weeks

    seed, learned, boosting = task
    m = sim.CityModel("town", rng=seed)
    m.warning.learned = learned
    m.warning.keep_features = True
    oracle = []
    for d in range(SKILL_DAYS):
        m.step()
        if (d + 1) % 7 == 0:  # hidden: the summed hazard of every open case per grid
            tab = m.cases
            oracle.append(np.bincount(tab["grid"], weights=tab["hazard"], minlength=m.layout.n_grids))
    w = m.warning
    done, labels = w.scored(m.state)
    events = np.array([w.events[i.week + 1] for i in done])
    out: dict[str, Any] = {"seed": seed, "positive_rate": float(labels.mean()),
                           "labels": labels.ravel().tolist()}
    scores = {k: w.scores_of(done, k) for k in ("learned", "smoothed", "naive")}
    scores["boosting"] = np.array([boosting.score(i.x) for i in done])
    scores["oracle"] = np.array([oracle[i.week] for i in done])
    for k, sc in scores.items():
        out[f"{k}_auc"] = auc(sc, labels)
        out[f"{k}_precision"], out[f"{k}_recall"] = at_budget(sc, labels, BUDGET)
        out[f"{k}_caught"], out[f"{k}_lead"] = lead_weeks(sc, events, BUDGET, 2)
        out[f"{k}_scores"] = sc.ravel().tolist()
        out[f"{k}_community_auc"] = auc(*by_community(sc, labels, m.layout.community_of))
    return out


def value(task: tuple[str, int, Any]) -> dict[str, Any]:
    """One arm on one seed: caused escalations and cost."""
    import sim

    arm, seed, learned = task
    visits = 0 if arm == "none" else VISITS
    m = sim.CityModel("town", rng=seed, warning_response_visits_per_week=visits)
    m.warning.learned = learned
    m.warning.acting = "smoothed" if arm == "none" else arm
    m.run(VALUE_DAYS)
    k = m.kpis()
    caused = sum(c["caused_escalations"] for c in k["by_category"].values())
    return {"arm": arm, "seed": seed, "caused": caused, "caused_share": k["caused_escalation_share"],
            "collective": k["collective_incidents"], "cost": k["staff_cost"],
            "visit_cost": k["warning_visit_cost"], "visits": k["warning_visits"],
            "auc": k["warning_auc"], "capacity_index": k["capacity_index"],
            "safety_index": k["safety_index"]}


def ci(d: np.ndarray) -> tuple[float, float, float]:
    """Mean and 95% t-interval of paired differences ``d``."""
    from scipy import stats

    half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
    return float(d.mean()), float(d.mean() - half), float(d.mean() + half)


def _options(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--reps", type=int, default=6, help="evaluation seeds (default 6)")
    ap.add_argument("--value-reps", type=int, default=10, help="seeds per arm (default 10)")


def run(args: argparse.Namespace) -> None:
    t0 = time.time()
    learned, boosting = _trained()
    print(f"trained on {len(TRAIN_SEEDS)} histories in {time.time() - t0:.0f} s")
    # spawned workers: fitting gradient boosting starts OpenMP threads, and a forked child of a
    # process with OpenMP threads can hang in its first parallel call
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.workers or 2, mp_context=spawn) as pool:
        sk = list(pool.map(skill, [(s, learned, boosting) for s in range(args.reps)]))
        val = list(pool.map(value, [(a, s, learned) for s in range(args.value_reps) for a in ARMS]))
    args.store.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(sk).to_parquet(args.store / "skill.parquet")
    pd.DataFrame(val).to_parquet(args.store / "value.parquet")
    print(f"{len(sk) + len(val)} runs in {time.time() - t0:.0f} s")


def report_skill(sk: pd.DataFrame) -> None:
    print(f"\nPart 1 — skill on town, {SKILL_DAYS} days, {len(sk)} seeds, target: an escalation or "
          f"collective incident in the next 2 weeks (positive rate {100 * sk.positive_rate.mean():.1f}%)")
    for k in ("learned", "boosting", "smoothed", "naive", "oracle"):
        a = sk[f"{k}_auc"].to_numpy()
        m, lo, hi = ci(a)
        print(f"  {k:9s} AUC {m:.3f} [{lo:.3f}, {hi:.3f}]  precision@10% "
              f"{100 * sk[f'{k}_precision'].mean():.1f}%  recall@10% {100 * sk[f'{k}_recall'].mean():.1f}%  "
              f"events flagged in time {100 * sk[f'{k}_caught'].mean():.1f}%  "
              f"mean lead {sk[f'{k}_lead'].mean():.2f} weeks; by community: AUC "
              f"{sk[f'{k}_community_auc'].mean():.3f}")
    for a, b in (("learned", "naive"), ("learned", "smoothed"), ("boosting", "learned"),
                 ("oracle", "naive")):
        m, lo, hi = ci((sk[f"{a}_auc"] - sk[f"{b}_auc"]).to_numpy())
        print(f"  AUC {a} − {b}: {m:+.3f} [{lo:+.3f}, {hi:+.3f}] (paired over seeds)")


def calibration(sk: pd.DataFrame) -> tuple[list, list]:
    """Reliability curves of the learned probabilities and of the naive count turned into a
    frequency (P(event | naive count), estimated on the evaluation seeds other than each one)."""
    from sim.warning.scoring import brier, calibration_curve

    y = np.concatenate([np.asarray(v) for v in sk["labels"]])
    p = np.concatenate([np.asarray(v) for v in sk["learned_scores"]])
    naive = np.concatenate([np.asarray(v) for v in sk["naive_scores"]])
    seed = np.concatenate([np.full(len(v), s) for s, v in zip(sk.seed, sk["labels"], strict=True)])
    q = np.zeros_like(p)
    for s in np.unique(seed):  # leave-one-seed-out frequency per naive count (capped at 3)
        c = np.minimum(naive, 3)
        for v in np.unique(c):
            train = (seed != s) & (c == v)
            q[(seed == s) & (c == v)] = y[train].mean() if train.any() else y[seed != s].mean()
    print(f"  Brier score: learned {brier(p, y):.4f}, naive-as-frequency {brier(q, y):.4f}, "
          f"constant base rate {brier(np.full_like(p, y.mean()), y):.4f}")
    cl, cn = calibration_curve(p, y, 10), calibration_curve(q, y, 10)
    print("  calibration (mean predicted → observed, n): learned " +
          ", ".join(f"{a:.3f}→{b:.3f} ({n})" for a, b, n in cl))
    print("  calibration: naive " + ", ".join(f"{a:.3f}→{b:.3f} ({n})" for a, b, n in cn))
    return cl, cn


def report_value(val: pd.DataFrame) -> dict[str, tuple[float, float, float]]:
    seeds = val.seed.nunique()
    print(f"\nPart 2 — value of information on town, {VALUE_DAYS} days, {seeds} common seeds, "
          f"{VISITS} visits per week")
    w = {k: val.pivot_table(index="seed", columns="arm", values=k) for k in ("caused", "cost")}
    base = w["caused"]["none"].mean()
    print(f"  no visits: {base:.1f} caused escalations, cost {w['cost']['none'].mean() / 1e6:.2f} M yuan")
    out = {}
    for arm in ARMS[1:]:
        avoided = (w["caused"]["none"] - w["caused"][arm]).to_numpy()
        extra = (w["cost"][arm] - w["cost"]["none"]).to_numpy()
        a, alo, ahi = ci(avoided)
        out[arm] = (a, alo, ahi)
        per = extra.mean() / a if a > 0 else float("nan")
        print(f"  act on {arm:8s}: caused escalations avoided {a:.1f} [{alo:.1f}, {ahi:.1f}] "
              f"({100 * a / base:.1f}%), extra cost {extra.mean():,.0f} yuan → "
              f"{per:,.0f} yuan per caused escalation avoided")
    for a, b in (("learned", "naive"), ("learned", "smoothed"), ("learned", "random"),
                 ("naive", "random")):
        d = (w["caused"][b] - w["caused"][a]).to_numpy()
        m, lo, hi = ci(d)
        print(f"  {a} instead of {b}: {m:+.1f} [{lo:+.1f}, {hi:+.1f}] more caused escalations "
              f"avoided at the same cost")
    return out


def main(argv: list[str] | None = None) -> int:
    args = common.parse_args(NAME, __doc__, argv, _options)
    if not args.no_run:
        run(args)
    sk = pd.read_parquet(args.store / "skill.parquet")
    val = pd.read_parquet(args.store / "value.parquet")
    report_skill(sk)
    cl, cn = calibration(sk)
    avoided = report_value(val)
    fig, (ax, ax2) = common.two_panels()
    methods = ("learned", "smoothed", "naive", "oracle")
    for i, k in enumerate(methods):
        m, lo, hi = ci(sk[f"{k}_auc"].to_numpy())
        ax.errorbar(i, m, yerr=[[m - lo], [hi - m]], fmt="o", capsize=3)
        ax.scatter(np.full(len(sk), i + 0.15), sk[f"{k}_auc"], s=8, color="grey")
    ax.axhline(0.5, color="k", lw=0.6)
    ax.set_xticks(range(len(methods)), ["learned", "smoothed", "naive", "oracle\n(hidden state)"])
    common.label(ax, "forecaster", "AUC (mean, 95% CI; grey: seeds)",
                 "Who will escalate in the next 2 weeks? (town)", legend=False)
    for curve, lab in ((cl, "learned"), (cn, "naive (as a frequency)")):
        ax2.plot([c[0] for c in curve], [c[1] for c in curve], marker="o", ms=4, label=lab)
    top = max(max(c[0] for c in cl), max(c[1] for c in cl + cn))
    ax2.plot([0, top], [0, top], color="k", lw=0.6, ls="--")
    common.label(ax2, "predicted chance", "observed frequency", "Calibration")
    a = avoided["learned"][0]
    fig.suptitle(f"Town, {len(sk)} evaluation seeds; acting on the learned forecast "
                 f"({VISITS} visits/week) avoided {a:.1f} caused escalations in {VALUE_DAYS} days",
                 fontsize=9)
    return common.save(fig, args.out)


if __name__ == "__main__":
    sys.exit(main())
