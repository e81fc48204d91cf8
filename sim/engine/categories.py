"""Case categories (the five major risks by default, 五大风险) as arrays indexed by category id."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Categories:
    """Case categories as arrays indexed by category id (``world.categories`` in the scenario)."""

    names: list[str]
    rate: np.ndarray  # new cases per 1,000 residents per year
    severity_cum: np.ndarray  # [n, 4] cumulative initial-severity probabilities
    pair: np.ndarray  # share of cases between two residents
    collective: np.ndarray  # share of cases involving many residents
    service_mult: np.ndarray  # work multiplier
    department: np.ndarray  # int64 department id
    patrol_visible: np.ndarray  # visibility to patrols, video and volunteers
    proactive_only: np.ndarray  # share only a proactive channel can detect
    entry_level: np.ndarray  # int64 [n, 4]: level where a reported case of each severity enters
    escalation_mult: np.ndarray  # escalation hazard multiplier
    preventable: np.ndarray  # how much of the category prevention at the source can reach

    @property
    def n(self) -> int:
        """Number of categories."""
        return len(self.names)

    @classmethod
    def from_scenario(cls, table: dict[str, dict[str, Any]], departments: list[str],
                      default_entry: list[float]) -> Categories:
        """Build from ``world.categories``; ``departments`` lists department names in order;
        ``default_entry`` is the route of categories that set none."""
        rows = list(table.values())

        def col(key: str) -> np.ndarray:
            return np.array([r[key] for r in rows], dtype=np.float64)

        entry = np.array([r["entry_level_by_severity"] or default_entry for r in rows], dtype=np.int64)
        return cls(list(table), col("rate_per_1000_per_year"),
                   np.cumsum([r["severity_probs"] for r in rows], axis=1),
                   col("pair_share"), col("collective_share"), col("service_multiplier"),
                   np.array([departments.index(r["department"]) for r in rows], dtype=np.int64),
                   col("patrol_visible"), col("proactive_only"), entry.reshape(len(rows), 4),
                   col("escalation_multiplier"), col("preventable"))


def department_names(table: dict[str, dict[str, Any]]) -> list[str]:
    """Departments in order of first appearance among the categories."""
    return list(dict.fromkeys(c["department"] for c in table.values()))
