"""Repeat disputants: how many residents are party to more than one case (docs/ODD.md §7.15).

Runs ``town`` (365 days, seed 0) with the default ``world.repeat_disputant_dispersion`` and with
0 (every resident alike) and prints, of the residents who are party ``a`` to at least one case,
how many there are, the share party to exactly one, and the share of those cases the top tenth
of them are party to.

    PYTHONPATH=$PWD python experiments/repeat_disputants.py
"""

from __future__ import annotations

import _common  # noqa: F401 - puts this checkout's sim first
import numpy as np
from _common import run_with_records, small_parser


def summary(overrides: dict, scenario: str = "town", seed: int = 0, days: int = 365) -> str:
    a = run_with_records(scenario, seed, days, overrides)[1]["resident_a"]
    counts = np.unique(a[a >= 0], return_counts=True)[1]
    top = np.sort(counts)[::-1][: max(1, len(counts) // 10)]
    return (f"{len(counts):,} residents party a to a case; exactly one: "
            f"{np.mean(counts == 1):.1%}; top tenth's share of their cases: "
            f"{top.sum() / counts.sum():.1%}")


if __name__ == "__main__":
    a = small_parser(__doc__, "town").parse_args()
    print("default dispersion:", summary({}, a.scenario, a.seed, a.days))
    print("dispersion 0      :", summary({"world.repeat_disputant_dispersion": 0}, a.scenario, a.seed, a.days))
