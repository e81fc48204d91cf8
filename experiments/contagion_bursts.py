"""Contagion on and off: bursts in time and clusters on the map (issue 11, docs/ODD.md §7.16).

Runs ``baseline`` (1M residents, 365 days) with the default contagion and with it switched off
(``world.contagion_magnitude = world.contagion_escalation_magnitude = 0``) under the same seeds
(common random numbers), without the annual cycle (``world.seasonality_amplitude = 0``; the
variance/mean is 1 for a Poisson process of constant rate), and reports per arm the mean over
seeds, and the paired difference with its standard error, of: weekly variance/mean of all
emerged cases and of collective incidents (cases reaching severity ≥ 2), raw and around a
straight-line trend (a saturated queue makes the counts drift, docs/ODD.md §7.5), the same per grid (mean-weighted), and Moran's I over grids of the counts per 1,000
residents (queen contiguity on the map). Draws docs/img/contagion_bursts.png: weekly collective
incidents and new cases in the city, and new cases in the street with the highest weekly peak,
seed 0, both arms, no annual cycle.

    PYTHONPATH=$PWD python experiments/contagion_bursts.py --seeds 5
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _common  # noqa: F401 - puts this checkout's sim first
import numpy as np
from _common import run_with_records

import sim
from sim.outcomes.clustering import clustering_summary, weekly

ROOT = Path(__file__).resolve().parent.parent
OFF = {"world.contagion_magnitude": 0.0, "world.contagion_escalation_magnitude": 0.0}
FLAT = {"world.seasonality_amplitude": 0.0}
WARMUP = 28


def run(over: dict, seed: int, days: int, scenario: str) -> tuple[dict[str, float], dict, sim.CityModel]:
    """Clustering summary of one run, its case records (closed and open) and the model."""
    m, rec = run_with_records(scenario, seed, days, over)
    out = clustering_summary(m.layout, rec, days, warmup_days=WARMUP)
    k = m.kpis()
    out.update({key: float(k[key]) for key in ("cases_total", "collective_incidents", "collective_actions",
                                                "escalated_share", "safety_index")})
    return out, rec, m


def figure(days: int, scenario: str, path: Path) -> None:
    """Weekly collective incidents and new cases in the city, and new cases in the street with
    the highest weekly peak, contagion on and off (seed 0, no annual cycle)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = {}
    for over, label in (({}, "contagion on (default)"), (OFF, "contagion off")):
        _, rec, m = run({**FLAT, **over}, 0, days, scenario)
        day = (rec["t_emerge"] // 24).astype(np.int64)
        street = m.layout.street_of[rec["grid"]]
        per_street = np.zeros((days, m.layout.n_streets))
        np.add.at(per_street, (np.minimum(day, days - 1), street), 1.0)
        arms[label] = (m.timeseries(), weekly(per_street))
    on_streets = arms["contagion on (default)"][1]
    hot = int(np.argmax((on_streets - on_streets.mean(axis=0)).max(axis=0)))
    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True)
    for (label, (ts, streets)), colour in zip(arms.items(), ("#c0392b", "#7f8c8d"), strict=True):
        series = (weekly(ts["collective_new"].to_numpy()), weekly(ts["new_cases"].to_numpy()), streets[:, hot])
        for ax, w in zip(axes, series, strict=True):
            ax.step(np.arange(w.size), w, where="post", label=label, color=colour, lw=1.4)
    axes[0].set_ylabel("city: collective\nincidents per week")
    axes[1].set_ylabel("city: new cases\nper week")
    axes[2].set_ylabel(f"street {hot}: new\ncases per week")
    axes[2].set_xlabel("week")
    axes[0].legend(frameon=False, ncols=2, loc="lower right")
    fig.suptitle(f"{scenario}, seed 0, no annual cycle: grievances that breed grievances (ODD §7.16)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=130)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--figure-only", action="store_true")
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scenario", default="baseline")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "contagion_bursts.png")
    a = ap.parse_args()
    if a.figure_only:
        figure(a.days, a.scenario, a.out)
        return
    on = [run(FLAT, s, a.days, a.scenario)[0] for s in range(a.seeds)]
    off = [run({**FLAT, **OFF}, s, a.days, a.scenario)[0] for s in range(a.seeds)]
    table = {}
    for key in on[0]:
        x, y = np.array([r[key] for r in on]), np.array([r[key] for r in off])
        d = x - y
        table[key] = {"on": float(x.mean()), "off": float(y.mean()), "diff": float(d.mean()),
                      "se": float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else float("nan")}
        print(f"{key:34s} on {x.mean():10.3f}  off {y.mean():10.3f}  diff {d.mean():+9.3f} ± {table[key]['se']:.3f}")
    (ROOT / "experiments" / "figures").mkdir(exist_ok=True)
    (ROOT / "experiments" / "figures" / "contagion_bursts.json").write_text(json.dumps(table, indent=1))
    figure(a.days, a.scenario, a.out)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
