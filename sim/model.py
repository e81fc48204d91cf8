"""CityModel: the Mesa model that ties city, residents, cases, staff and the ordered plan together.

One ``step()`` is one day (a tick); inside it, time is continuous (hours). The plan is an explicit,
printable list of stages run in order every tick (``model.plan``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import mesa
import numpy as np
from mesa.discrete_space import OrthogonalMooreGrid

from .config.params import LEVELS, N_LEVELS, Levers
from .config.scenario import Scenario, load_scenario
from .engine import feedback, flow, handling
from .engine.agents import StaffAgent
from .engine.cases import CaseTable
from .engine.city import build_layout
from .engine.queues import PoolSet, _first_staffed, _pool_counts, _pool_index, warm_up
from .engine.rates import Categories, EmergenceRates
from .engine.residents import ResidentTable
from .engine.staffing import Staffing
from .engine.streams import SeedLike, Streams, mechanism_id, root_sequence
from .outcomes.compute import KpiAccumulator, compute_kpis, daily_kpis, open_tallies


def _today(key: str, model: CityModel) -> float:
    """DataCollector reporter reading one of today's figures (used through a picklable partial)."""
    return model.today[key]


class CityModel(Staffing, EmergenceRates, mesa.Model):
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
        from .io.provenance import provenance

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
        """A :class:`~sim.engine.residents.Resident` view of one resident."""
        return self.residents.view(index, self.now_hours)


MAP_LAYERS = ("residents", "open_cases", "trust", "escalations", "staff_load", "escalation_risk")
TIMESERIES_KEYS = ("day", "new_cases", "detected", "resolved", "escalations", "passed_up", "open_latent",
                   "open_reporting", "open_queued", "open_in_service", "open_severity_0",
                   "open_severity_1", "open_severity_2", "open_severity_3", "resolved_total",
                   *[f"resolved_at_{lv}" for lv in LEVELS], "mean_trust", "safety_index",
                   "median_hours_to_resolution", "staff_cost", "escalated_share", "staff_utilisation")
