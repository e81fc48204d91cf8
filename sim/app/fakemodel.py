"""A tiny stand-in for ``sim.CityModel`` with the same interface (used until the core lands)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from sim.params import LEVERS, ScenarioError
from sim.scenario import defaults

SIZES = {"town": 100_000, "baseline": 1_000_000, "xian": 13_000_000}


class FakeScenario:
    def __init__(self, name: str, data: dict[str, Any]) -> None:
        self.name, self.data = name, data

    def get(self, key: str) -> Any:
        node: Any = self.data
        for p in key.split("."):
            node = node[p]
        return node

    def with_overrides(self, overrides: dict[str, Any] | None) -> FakeScenario:
        data = copy.deepcopy(self.data)
        for k, v in (overrides or {}).items():
            LEVERS[k].check(k, v)
            a, b = k.split(".")
            data[a][b] = v
        return FakeScenario(self.name, data)


def load_scenario(name: Any, overrides: Any = None) -> FakeScenario:
    name = getattr(name, "name", name)
    if name not in SIZES:
        raise ScenarioError(f"scenario {name!r}: no such file or name (names: {', '.join(SIZES)})")
    data = defaults()
    data["city"]["residents"] = SIZES[name]
    return FakeScenario(name, data).with_overrides(overrides)


def scenario_names() -> list[str]:
    return list(SIZES)


class _Levers:
    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_v", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._v[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        key = f"levers.{name}"
        if key not in LEVERS:
            raise ScenarioError(f"{key}: unknown lever")
        self._v[name] = LEVERS[key].check(key, value)


class FakeCityModel:
    def __init__(self, scenario: Any, rng: Any = None, case_sink: Any = None) -> None:
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        self.rng = np.random.default_rng(0 if rng is None else rng)
        self.levers = _Levers(self.scenario.data["levers"])
        n_grids = max(1, self.scenario.data["city"]["residents"] // 1000)
        side = int(np.ceil(np.sqrt(n_grids)))
        self.rows, self.cols = side, side
        d = np.full(side * side, -1)
        per_d = max(1, n_grids // 4)
        d[:n_grids] = np.minimum(np.arange(n_grids) // per_d, 3)
        cells = np.arange(side * side)
        d2 = np.where(d >= 0, (cells // side >= side // 2) * 2 + (cells % side >= side // 2), -1)
        self.district_of_cell = d2.reshape(side, side)
        self.day = 0
        self.open = np.zeros((side, side))
        self.trust = np.full((side, side), 0.6)
        self.rows_ts: list[dict[str, float]] = []
        self.resolved = np.zeros(6)

    @property
    def now_hours(self) -> float:
        return self.day * 24.0

    def step(self) -> None:
        lv = self.levers
        mask = self.district_of_cell >= 0
        new = self.rng.poisson(0.1, self.open.shape) * mask
        capacity = 0.02 * lv.grid_workers_per_grid + 0.01 * lv.mediators_per_street / 10
        self.open = np.maximum(0, self.open + new - self.rng.poisson(capacity * 2, self.open.shape))
        self.trust = np.clip(self.trust + 0.01 * (capacity - 0.1) - 0.002 * self.open, 0, 1)
        self.resolved += self.rng.poisson([5, 3, 2, 1, 0.5, 0.2])
        self.day += 1
        tot = float(self.open[mask].sum())
        self.rows_ts.append({
            "day": self.day, "open_severity_0": tot * 0.8, "open_severity_1": tot * 0.15,
            "open_severity_2": tot * 0.04, "open_severity_3": tot * 0.01,
            **{f"resolved_level_{i}": float(v) for i, v in enumerate(self.resolved)},
            "median_hours_to_resolution": 30 + tot / 10, "p90_hours_to_resolution": 200 + tot,
            "mean_trust": float(self.trust[mask].mean()), "safety_index": 80 - tot / 50,
            "staff_cost": 1e6 * (5 * lv.grid_workers_per_grid + lv.mediators_per_street),
        })

    def run(self, days: int, progress: bool = False) -> None:
        for _ in range(days):
            self.step()

    def kpis(self) -> dict[str, Any]:
        last = self.rows_ts[-1] if self.rows_ts else {}
        return {"cases_total": float(self.resolved.sum()), "escalated_share": 0.05,
                "collective_incidents": 1.0, "major_incidents": 0.0,
                "resolved_share": 0.8, "backlog": float(self.open.sum()),
                "grassroots_resolution_share": 0.7,
                "mean_trust": last.get("mean_trust", 0.6), "safety_index": last.get("safety_index", 80),
                "staff_cost": last.get("staff_cost", 0.0),
                "median_hours_to_resolution": last.get("median_hours_to_resolution", 0.0),
                "p90_hours_to_resolution": last.get("p90_hours_to_resolution", 0.0)}

    def timeseries(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows_ts)

    def grid_layer(self, name: str) -> np.ndarray:
        if name == "open_cases":
            return self.open.copy()
        if name == "trust":
            return self.trust.copy()
        if name == "residents":
            return (self.district_of_cell >= 0) * 1000.0
        return self.open / (1 + self.open.max())


def run(scenario: Any, params: dict[str, Any] | None = None, seed: int = 0,
        days: int | None = None) -> dict[str, float]:
    m = FakeCityModel(load_scenario(scenario).with_overrides(params), rng=seed)
    m.run(days or 30)
    return {k: float(v) for k, v in m.kpis().items()}
