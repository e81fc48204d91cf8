"""Emergence rates: categories, seasons, weekdays, weekly over-dispersion and shocks.

A mixin of :class:`~sim.model.CityModel`; :class:`Categories` holds the case types as arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Categories:
    """Case categories as arrays indexed by category id."""

    names: list[str]
    rate: np.ndarray
    severity_cum: np.ndarray
    pair: np.ndarray
    collective: np.ndarray
    service_mult: np.ndarray
    department: np.ndarray
    patrol_visible: np.ndarray
    proactive_only: np.ndarray

    @property
    def n(self) -> int:
        """Number of categories."""
        return len(self.names)

    @classmethod
    def from_scenario(cls, table: dict[str, dict[str, Any]], departments: list[str]) -> Categories:
        """Build from ``world.categories``; ``departments`` lists department names in order."""
        rows = list(table.values())
        col = lambda k: np.array([r[k] for r in rows], dtype=np.float64)  # noqa: E731
        return cls(list(table), col("rate_per_1000_per_year"),
                   np.cumsum([r["severity_probs"] for r in rows], axis=1),
                   col("pair_share"), col("collective_share"), col("service_multiplier"),
                   np.array([departments.index(r["department"]) for r in rows], dtype=np.int64),
                   col("patrol_visible"), col("proactive_only"))


class EmergenceRates:
    """Expected new cases per grid and category for the current day (mixin)."""

    def daily_rates(self) -> np.ndarray:
        """Expected new cases today per grid and category (seasons, weekdays, shocks, noise)."""
        w, cats, lay = self.world, self.categories, self.layout
        doy = (w["start_day_of_year"] + self.day) % 365
        season = 1.0 + w["seasonality_amplitude"] * np.cos(2 * np.pi * (doy - w["seasonality_peak_day"]) / 365)
        weekday = w["weekday_multipliers"][self.day % 7]
        per_cat = cats.rate / 1000.0 / 365.0 * w["emergence_multiplier"] * season * weekday
        per_cat = per_cat * self._week_multiplier()
        rate = lay.residents_per_grid[:, None] * per_cat[None, :]
        for shock, mask in zip(self.world["shocks"], self._shock_masks, strict=True):
            if shock["start_day"] <= self.day < shock["start_day"] + shock["days"]:
                cols = [cats.names.index(shock["category"])] if shock["category"] else slice(None)
                rate[np.ix_(mask, np.arange(cats.n)[cols])] *= shock["multiplier"]
        return rate

    def _week_multiplier(self) -> np.ndarray:
        """Gamma noise (mean 1, variance ``overdispersion``) per category, one draw per week."""
        var = self.world["overdispersion"]
        if var <= 0:
            return np.ones(self.categories.n)
        week = self.day // 7
        if week not in self._week_noise:
            shape = 1.0 / var
            self._week_noise = {week: self.streams.get("overdispersion", week).gamma(shape, var,
                                                                                    self.categories.n)}
        return self._week_noise[week]

    def shock_collective_boost(self, grid: np.ndarray, cat: np.ndarray) -> np.ndarray:
        """Extra collective-case share from active shocks."""
        boost = np.zeros(grid.size)
        for shock, mask in zip(self.world["shocks"], self._shock_masks, strict=True):
            active = shock["start_day"] <= self.day < shock["start_day"] + shock["days"]
            if active and shock["collective_boost"] > 0:
                hit = mask[grid]
                if shock["category"]:
                    hit = hit & (cat == self.categories.names.index(shock["category"]))
                boost += np.where(hit, shock["collective_boost"], 0.0)
        return boost

    @property
    def video_covered(self) -> np.ndarray:
        """Which grids the video network covers (a fixed ranking, so coverage grows by adding)."""
        return self._video_u < self.levers.video_coverage
