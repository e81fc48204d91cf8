"""Deprived neighbourhoods: more grievances, fewer reports (docs/ODD.md §7.15).

Runs ``baseline`` (365 days, seed 0) and prints, for the grids in each third of the
communities' deprivation index, cases per 1,000 residents, the share of cases reported by
residents (hotline channel), the detected share and the mean hours to detection.

    PYTHONPATH=$PWD python experiments/neighbourhood_gradient.py
"""

from __future__ import annotations

import _common  # noqa: F401 - puts this checkout's sim first
import numpy as np
from _common import run_with_records, small_parser

from sim.engine.cases import HOTLINE

BANDS = ("least deprived third", "middle third", "most deprived third")


def main(scenario: str = "baseline", seed: int = 0, days: int = 365) -> None:
    m, rec = run_with_records(scenario, seed, days)
    z = m.residents.deprivation
    band = np.digitize(z, np.quantile(z, [1 / 3, 2 / 3]))  # 0 least deprived .. 2 most
    residents = np.bincount(band, weights=m.layout.residents_per_grid, minlength=3)
    b = band[rec["grid"]]
    detected = np.isfinite(rec["t_detect"])
    cases = np.bincount(b, minlength=3)
    hotline = np.bincount(b[rec["channel"] == HOTLINE], minlength=3)
    found = np.bincount(b[detected], minlength=3)
    for k, name in enumerate(BANDS):
        delay = np.mean((rec["t_detect"] - rec["t_emerge"])[(b == k) & detected])
        print(f"{name:22s} cases/1000 {cases[k] / residents[k] * 1000:6.2f}  "
              f"reported by residents {hotline[k] / cases[k]:.3f}  detected {found[k] / cases[k]:.3f}  "
              f"hours to detection {delay:.1f}")


if __name__ == "__main__":
    a = small_parser(__doc__, "baseline").parse_args()
    main(a.scenario, a.seed, a.days)
