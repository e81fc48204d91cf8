"""CityModel: the Mesa model that ties city, residents, cases, staff and the ordered plan together.

One ``step()`` is one day (a tick); inside it, time is continuous (hours). The plan is an explicit,
printable list of stages run in order every tick (``model.plan``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from . import feedback, flow, handling
from .agents import AGENT_CLASS_BY_LEVEL, INDIVIDUAL_LEVELS, StaffAgent
from .cases import CaseTable
from .city import build_layout
from .kpis import KpiAccumulator, compute_kpis, daily_kpis, open_tallies
from .params import LEVELS, LEVERS, N_LEVELS, ScenarioError
from .queues import PoolSet, _first_staffed, _pool_counts, _pool_index, warm_up
from .residents import ResidentTable
from .rng import SeedLike, Streams, mechanism_id, root_sequence
from .scenario import Scenario, load_scenario

LEVEL_LEVER = {0: "grid_workers_per_grid", 1: "mediators_per_street", 2: "centre_staff_per_street",
               3: "department_staff", 4: "city_staff", 5: "legal_capacity"}
LEVEL_COST = {0: "grid_worker", 1: "mediator", 2: "centre_staff", 3: "department_staff", 4: "city_staff",
              5: "court_staff"}


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


class Levers:
    """Policy levers as plain attributes; every assignment is validated against its range."""

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # e.g. during unpickling, before _values exists
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"no lever {name!r} (levers: {', '.join(self._values)})") from None

    def __setattr__(self, name: str, value: Any) -> None:
        key = f"levers.{name}"
        if key not in LEVERS:
            raise ScenarioError(f"{key}: unknown lever (levers: {', '.join(self._values)})")
        self._values[name] = LEVERS[key].check(key, value)

    def as_dict(self) -> dict[str, Any]:
        """Current values."""
        return dict(self._values)


def _today(key: str, model: CityModel) -> float:
    """DataCollector reporter reading one of today's figures (used through a picklable partial)."""
    return model.today[key]


class CityModel(mesa.Model):
    """Agent-based model of a city's social-risk governance. ``step()`` = one day."""

    def __init__(self, scenario: Scenario | str = "baseline", rng: SeedLike = None,
                 case_sink: Any = None, overrides: dict[str, Any] | None = None) -> None:
        self.spec = load_scenario(scenario, overrides)
        root = root_sequence(rng)
        super().__init__(rng=np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key,
                                                                             mechanism_id("mesa"))))
        self.streams = Streams(root)
        d = self.spec.data
        self.world, self.handling = d["world"], d["handling"]
        self.levers = Levers(d["levers"])
        self.case_sink = case_sink
        self.day, self.t0, self.t1 = 0, 0.0, 24.0
        self.today: dict[str, Any] = {}
        self.failures_today: list[np.ndarray] = []

        self.layout = build_layout(d["city"], self.streams.get("layout"))
        lay = self.layout
        self.residents = ResidentTable(lay, self.world, self.streams.get("residents"))
        self.departments = list(dict.fromkeys(c["department"] for c in self.world["categories"].values()))
        self.categories = Categories.from_scenario(self.world["categories"], self.departments)
        self.entry_by_severity = np.array(self.handling["entry_level_by_severity"], dtype=np.int64)
        self.cases = CaseTable()
        self.kpi = KpiAccumulator(self.categories.n, len(self.departments))
        self.escalations_by_grid = np.zeros(lay.n_grids, dtype=np.int64)
        self.open_nearby_per_1000 = np.zeros(lay.n_grids)
        self.cost_to_date = 0.0
        self._busy = np.zeros(N_LEVELS)
        self._capacity = np.zeros(N_LEVELS)

        # the Mesa grid and its property layers are built when first read (see ``space``)
        self._space: OrthogonalMooreGrid | None = None
        self._layers: dict[str, Any] = {}
        self._layers_stale = False
        self._video_u = self.streams.get("video").random(lay.n_grids)
        self._shock_masks = [self.streams.get(f"shock:{i}").random(lay.n_grids) < s["share_of_grids"]
                             for i, s in enumerate(self.world["shocks"])]
        self._week_noise: dict[int, np.ndarray] = {}

        n_dept = len(self.departments)
        warm_up()  # start numba's compiler runtime now, not inside the first day's stages
        self.pools = [PoolSet(n) for n in (lay.n_grids, lay.n_streets, lay.n_streets,
                                           lay.n_districts * n_dept, n_dept, lay.n_districts)]
        self.staff: dict[int, list[StaffAgent]] = {lv: [] for lv in range(N_LEVELS)}
        self._staffing: dict[int, np.ndarray] = {}
        self.sync_staff()

        self.plan: list[tuple[str, Callable[[CityModel], None]]] = [
            ("staffing", CityModel.sync_staff),
            ("emergence", flow.emergence),
            ("escalation_hazard", feedback.escalation_hazard),
            ("detection", flow.detection),
            *[(f"handle_{lv}", partial(handling.handle_level, level=i)) for i, lv in enumerate(LEVELS)],
            ("escalation", handling.end_of_tick_escalation),
            ("trust", feedback.trust_feedback),
            ("close", feedback.close_cases),
            ("account", CityModel.account),
        ]
        self.stage_seconds = {name: 0.0 for name, _ in self.plan}
        self.datacollector = mesa.DataCollector(model_reporters={k: partial(_today, k) for k in TIMESERIES_KEYS})

    # ----------------------------------------------------------------- structure helpers
    @property
    def plan_names(self) -> list[str]:
        """Stage names in the order they run each tick."""
        return [name for name, _ in self.plan]

    def pool_index(self, level: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """Pool of each case ``idx`` at ``level`` (per grid, street, district department, ...)."""
        tab, lay = self.cases, self.layout
        g = tab["grid"][idx]
        dept = self.categories.department[tab["category"][idx]]
        level = np.ascontiguousarray(np.broadcast_to(np.asarray(level, dtype=np.int64), g.shape))
        return _pool_index(level, g, dept, lay.street_of, lay.district_of, len(self.departments))

    def first_staffed(self, level: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For cases ``idx`` bound for ``level``: the first level at or above it whose pool has
        staff (the court at most), and that pool."""
        tab, lay = self.cases, self.layout
        g = tab["grid"][idx]
        dept = self.categories.department[tab["category"][idx]]
        level = np.ascontiguousarray(np.broadcast_to(np.asarray(level, dtype=np.int64), g.shape))
        counts = tuple(np.asarray(p.counts, dtype=np.int64) for p in self.pools)
        return _first_staffed(level, g, dept, lay.street_of, lay.district_of, len(self.departments),
                              counts, N_LEVELS - 1)

    def pool_counts(self, level: np.ndarray, pool: np.ndarray) -> np.ndarray:
        """Servers in each (level, pool)."""
        level = np.ascontiguousarray(np.broadcast_to(np.asarray(level, dtype=np.int64), np.shape(pool)))
        counts = tuple(np.asarray(p.counts, dtype=np.int64) for p in self.pools)
        return _pool_counts(level, np.asarray(pool, dtype=np.int64), counts)

    def pool_load(self, level: int) -> np.ndarray:
        """Open cases queued at or held by each pool of ``level``, per server."""
        tab = self.cases
        here = (tab["level"] == level) & (tab["stage"] >= 1) & (tab["stage"] <= 3)
        q = np.bincount(tab["pool"][here], minlength=self.pools[level].n_pools).astype(np.float64)
        return self.pools[level].load(q)

    def desired_staff(self) -> dict[int, int]:
        """Staff per pool at each level from the levers, scaled down to fit the budget cap."""
        lev = self.levers
        want = {lv: int(getattr(lev, LEVEL_LEVER[lv])) for lv in range(N_LEVELS)}
        cap = lev.budget_million_yuan * 1e6
        if cap > 0:
            cost = self.annual_cost(want)
            if cost > cap:
                fixed = self.annual_cost({lv: 0 for lv in want})
                scale = max(cap - fixed, 0.0) / max(cost - fixed, 1e-9)
                want = {lv: int(np.floor(n * scale)) for lv, n in want.items()}
        return want

    def annual_cost(self, per_pool: dict[int, int]) -> float:
        """Yuan per year for the given staff per pool, plus video and integration."""
        c, lay, lev = self.spec.data["costs"], self.layout, self.levers
        cost = sum(per_pool[lv] * self.pools[lv].n_pools * c[LEVEL_COST[lv]] for lv in per_pool)
        return float(cost + lay.n_grids * (lev.video_coverage * c["video_per_grid"]
                                           + lev.resource_integration * c["integration_per_grid"]))

    def sync_staff(self) -> None:
        """Bring staff agents and server pools in line with the staffing levers."""
        want = self.desired_staff()
        for lv in range(N_LEVELS):
            if self._staffing.get(lv) is not None and self._staffing[lv][0] == want[lv]:
                continue
            self._resize_level(lv, want[lv])
            self._staffing[lv] = np.array([want[lv]])

    def _speeds(self, level: int, n: int) -> np.ndarray:
        cv = self.handling["handler_skill_spread"]
        rng = self.streams.get(f"staff:{level}:{self.day}", len(self.staff[level]))
        if cv == 0:
            return np.ones(n)
        s2 = np.log1p(cv * cv)
        return rng.lognormal(-s2 / 2, np.sqrt(s2), n)

    def _resize_level(self, level: int, per_pool: int) -> None:
        pools, agents = self.pools[level], self.staff[level]
        off = 0
        for a in agents:  # pull free times back into the agents before rebuilding
            a.free_at = pools.free[off: off + a.servers].copy()
            off += a.servers
        cls = AGENT_CLASS_BY_LEVEL[level]
        if level in INDIVIDUAL_LEVELS:
            by_pool: list[list[StaffAgent]] = [[] for _ in range(pools.n_pools)]
            for a in agents:
                by_pool[a.pool].append(a)
            speeds = self._speeds(level, pools.n_pools * per_pool)
            for p, members in enumerate(by_pool):
                while len(members) > per_pool:
                    leaver = max(members, key=lambda a: a.free_at[0])
                    members.remove(leaver)
                    leaver.remove()
                for j in range(len(members), per_pool):
                    members.append(cls(self, p, speeds[p * per_pool + j: p * per_pool + j + 1], self.t0))
            agents = [a for members in by_pool for a in members]
        else:
            if not agents:
                extra = {"level": level} if level >= 3 else {}
                for p, name in enumerate(self._team_names(level)):
                    agents.append(cls(self, p, np.zeros(0), self.t0, **extra))
                    agents[-1].name = name
            speeds = self._speeds(level, pools.n_pools * per_pool)
            for p, a in enumerate(agents):
                a.resize(per_pool, speeds[p * per_pool:(p + 1) * per_pool], self.t0)
        self.staff[level] = agents
        pools.counts = np.bincount([a.pool for a in agents], weights=[a.servers for a in agents],
                                   minlength=pools.n_pools).astype(np.int64) if agents else np.zeros(
            pools.n_pools, np.int64)
        pools.ptr = np.concatenate([[0], np.cumsum(pools.counts)]).astype(np.int64)
        pools.free = np.concatenate([a.free_at for a in agents]) if agents else np.zeros(0)
        pools.speed = np.concatenate([a.speed for a in agents]) if agents else np.zeros(0)

    def _team_names(self, level: int) -> list[str]:
        lay, deps = self.layout, self.departments
        if level == 2:
            return [f"street-{s}" for s in range(lay.n_streets)]
        if level == 3:
            return [f"district-{d}/{name}" for d in range(lay.n_districts) for name in deps]
        if level == 4:
            return [f"city/{name}" for name in deps]
        return [f"court-{d}" for d in range(lay.n_districts)]

    # ----------------------------------------------------------------- rates
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
                hit = mask[grid] & ((not shock["category"]) | (cat == self.categories.names.index(
                    shock["category"]) if shock["category"] else True))
                boost += np.where(hit, shock["collective_boost"], 0.0)
        return boost

    @property
    def video_covered(self) -> np.ndarray:
        """Which grids the video network covers (a fixed ranking, so coverage grows by adding)."""
        return self._video_u < self.levers.video_coverage

    # ----------------------------------------------------------------- the tick
    def account(self) -> None:
        """Costs, utilisation and map layers for the day just simulated."""
        want = {lv: int(self._staffing[lv][0]) for lv in range(N_LEVELS)}
        self.cost_to_date += self.annual_cost(want) / 365.0
        for lv, pools in enumerate(self.pools):
            self._busy[lv] += pools.busy_hours
            self._capacity[lv] += pools.counts.sum() * 24.0
            pools.busy_hours = 0.0
        self._layers_stale = True  # map layers are recomputed when next read (see ``layers``)

    def utilisation(self, levels: tuple[int, ...] = (1, 2, 3, 4)) -> float:
        """Share of handler time spent on cases at ``levels`` (default: mediators, street centres,
        district and city departments — grid workers mostly patrol, and the court is apart)."""
        lv = list(levels)
        cap = self._capacity[lv].sum()
        return float(self._busy[lv].sum() / cap) if cap else 0.0

    def utilisation_by_level(self) -> dict[str, float]:
        """Share of handler time spent on cases, per level."""
        return {name: self.utilisation((i,)) for i, name in enumerate(LEVELS)}

    def step(self) -> None:
        """Simulate one day: run every stage of the plan in order."""
        import time

        self.t0, self.t1 = self.day * 24.0, self.day * 24.0 + 24.0
        self.today = dict.fromkeys(TIMESERIES_KEYS, 0)
        self.failures_today = []
        for name, stage in self.plan:
            tic = time.perf_counter()
            stage(self)
            self.stage_seconds[name] += time.perf_counter() - tic
        self._record_day()
        self.day += 1  # Mesa's step wrapper advances model.time by one

    def run(self, days: int | None = None, progress: bool = False) -> CityModel:
        """Run ``days`` (default: the scenario's run.days) with an optional progress bar."""
        days = self.spec.data["run"]["days"] if days is None else days
        it = range(days)
        if progress:
            from tqdm import tqdm

            # shown only when the run lasts more than two seconds
            it = tqdm(it, desc=f"{self.spec.name}", unit="day", leave=False, delay=2.0, file=sys.stderr)
        for _ in it:
            self.step()
        return self

    def _record_day(self) -> None:
        t = self.today
        tallies = open_tallies(self)  # one pass over the open cases for all the counts below
        counts = tallies["per_stage"]
        t["day"] = self.day
        for name, s in (("latent", 0), ("reporting", 1), ("queued", 2), ("in_service", 3)):
            t[f"open_{name}"] = int(counts[s])
        sev = tallies["per_severity"]
        for s in range(4):
            t[f"open_severity_{s}"] = int(sev[s])
        k = self.kpi
        t["resolved_total"] = int(k.resolved.sum())
        for i, lv in enumerate(LEVELS):
            t[f"resolved_at_{lv}"] = int(k.by_level[i])
        t["mean_trust"] = self.residents.mean_trust()
        kp = daily_kpis(self, t["mean_trust"], tallies)  # compute_kpis' headline figures only
        for key in ("safety_index", "median_hours_to_resolution", "staff_cost", "escalated_share"):
            t[key] = kp[key]
        t["staff_utilisation"] = kp["staff_utilisation"]
        self.datacollector.collect(self)

    @property
    def space(self) -> OrthogonalMooreGrid:
        """The map: a Mesa grid of rows x cols cells carrying the map layers (built on first use)."""
        if self._space is None:
            lay = self.layout
            self._space = OrthogonalMooreGrid((lay.rows, lay.cols), torus=False, random=self.random)
            self._layers = {name: self._space.create_property_layer(name, default_value=0.0, dtype=float)
                            for name in MAP_LAYERS}
        return self._space

    @property
    def layers(self) -> dict[str, Any]:
        """Map layers (Mesa property layers) as of the end of the last day, computed when read."""
        _ = self.space  # the grid and its layers exist
        if self._layers_stale:
            self._layers_stale = False
            self._update_layers()
        return self._layers

    def _update_layers(self) -> None:
        _ = self.space  # the grid and its layers exist
        lay = self.layout
        tab = self.cases
        open_cases = np.bincount(tab["grid"], minlength=lay.n_grids)
        risk = np.bincount(tab["grid"], weights=tab["hazard"], minlength=lay.n_grids) * 24.0
        load = self.pool_load(0)
        values = {"residents": lay.residents_per_grid, "open_cases": open_cases,
                  "trust": self.residents.grid_mean_trust(), "escalations": self.escalations_by_grid,
                  "staff_load": np.where(np.isfinite(load), load, np.nan), "escalation_risk": risk}
        for name, v in values.items():
            cells = np.full(lay.rows * lay.cols, np.nan)
            cells[lay.cell_of_grid] = v
            self._layers[name].data = cells.reshape(lay.rows, lay.cols)

    # ----------------------------------------------------------------- outputs
    def kpis(self) -> dict[str, Any]:
        """KPIs so far (the keys of ``cityrisk run --json``, with provenance)."""
        from .provenance import provenance

        out = compute_kpis(self)
        out["days"] = self.day
        out["provenance"] = provenance(self.spec, self.streams.seed_label())
        return out

    def timeseries(self):
        """Daily time series as a pandas DataFrame (one row per simulated day)."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    def grid_layer(self, name: str) -> np.ndarray:
        """A per-grid map layer as a 2-D array (NaN where no grid)."""
        if name not in self.layers:
            raise KeyError(f"no layer {name!r} (layers: {', '.join(MAP_LAYERS)})")
        return np.array(self.layers[name].data, dtype=float)

    @property
    def district_of_cell(self) -> np.ndarray:
        """District id of each map cell (-1 where there is no grid)."""
        lay = self.layout
        out = np.full(lay.rows * lay.cols, -1, dtype=np.int64)
        out[lay.cell_of_grid] = lay.district_of
        return out.reshape(lay.rows, lay.cols)

    @property
    def now_hours(self) -> float:
        """Simulated time in hours."""
        return self.day * 24.0

    def resident(self, index: int):
        """A :class:`~sim.residents.Resident` view of one resident."""
        return self.residents.view(index, self.now_hours)


MAP_LAYERS = ("residents", "open_cases", "trust", "escalations", "staff_load", "escalation_risk")
TIMESERIES_KEYS = ("day", "new_cases", "detected", "resolved", "escalations", "passed_up", "open_latent",
                   "open_reporting", "open_queued", "open_in_service", "open_severity_0",
                   "open_severity_1", "open_severity_2", "open_severity_3", "resolved_total",
                   *[f"resolved_at_{lv}" for lv in LEVELS], "mean_trust", "safety_index",
                   "median_hours_to_resolution", "staff_cost", "escalated_share", "staff_utilisation")
