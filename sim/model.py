"""CityModel: the Mesa model that composes the city state and the ordered plan of stages.

One ``step()`` is one day (a tick); inside it, time is continuous (hours). The plan is an explicit,
printable list of stages run in order every tick (``model.plan``); each stage is a function of
the typed :class:`~sim.engine.state.CityState` and says what it reads and writes. The model
itself only builds the parts, runs the plan and records the day.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any, Concatenate

import mesa
import numpy as np
import pandas as pd
from mesa.discrete_space import OrthogonalMooreGrid

from .config.params import Levers
from .config.scenario import Scenario, load_scenario
from .engine.accounting import Accounts
from .engine.calendar import Calendar
from .engine.categories import Categories, department_names
from .engine.choice import ChoiceModel
from .engine.city import CityLayout, build_layout
from .engine.collective import CollectiveAction
from .engine.contagion import Contagion
from .engine.detection import Detection
from .engine.emergence import Emergence
from .engine.escalation import Escalation
from .engine.lapse import Lapse
from .engine.levels import LEVEL_TABLE, LEVELS, Level
from .engine.queues import PoolSet, warm_up
from .engine.residents import Resident, ResidentTable
from .engine.routing import Router
from .engine.service import Service
from .engine.staffing import Staffing
from .engine.state import CityState, StageSpec
from .engine.stories import StoryLog
from .engine.streams import SeedLike, Stream, Streams, root_sequence
from .engine.streams import load_kernel as load_streams_kernel
from .engine.trust import trust_feedback
from .outcomes.compute import compute_kpis, daily_record
from .warning.system import EarlyWarning

MAP_LAYERS = ("residents", "open_cases", "trust", "escalations", "staff_load", "escalation_risk", "warning")
TIMESERIES_KEYS = ("day", "new_cases", "returned", "detected", "resolved", "lapsed", "escalations", "passed_up",
                   "transferred", "open_latent",
                   "open_reporting", "open_queued", "open_in_service", "open_severity_0",
                   "open_severity_1", "open_severity_2", "open_severity_3", "resolved_total",
                   *[f"resolved_at_{lv}" for lv in LEVELS], "mean_trust", "safety_index",
                   "median_hours_to_resolution", "staff_cost", "escalated_share", "caused_escalation_share",
                   "staff_utilisation",
                   "triggered", "mobilisations", "collective_new")  # issue 11: §7.16–7.17


def _collector_paused[M, **P](init: Callable[Concatenate[M, P], None]) -> Callable[Concatenate[M, P], None]:
    """``init`` with Python's cyclic garbage collector off while it runs (and back as it was):
    xian's build adds 147,609 tracked objects that live as long as the model (its 69,433 staff
    agents among them), and the full collection they set off scans every object in the process
    to free none of them (0.1 s of a build, town's or xian's)."""
    @functools.wraps(init)
    def build(self: M, *args: P.args, **kwargs: P.kwargs) -> None:
        was_on = gc.isenabled()
        gc.disable()
        try:
            init(self, *args, **kwargs)
        finally:
            if was_on:
                gc.enable()
    return build


def _today(key: str, model: CityModel) -> float:
    """DataCollector reporter reading one of today's figures (used through a picklable partial)."""
    return model.state.today[key]


def pool_sets(layout: CityLayout, n_departments: int) -> list[PoolSet]:
    """The empty server pools of every level, sized by the level's pool scope."""
    n_pools = {"GRID": layout.n_grids, "STREET": layout.n_streets,
               "DISTRICT_DEPARTMENT": layout.n_districts * n_departments, "CITY_DEPARTMENT": n_departments,
               "DISTRICT": layout.n_districts}
    return [PoolSet(n_pools[spec.scope.name]) for spec in LEVEL_TABLE]


class CityModel(mesa.Model):
    """Agent-based model of a city's social-risk governance. ``step()`` = one day."""

    @_collector_paused
    def __init__(self, scenario: Scenario | str = "baseline", rng: SeedLike = None,
                 case_sink: Any = None, overrides: dict[str, Any] | None = None, **levers: Any) -> None:
        """Build the city of ``scenario`` (a name, a path or a :class:`Scenario`) seeded by ``rng``.

        ``overrides`` are dotted keys (``{"world.emergence_multiplier": 2}``); lever keywords
        (``mediators_per_street=12``) set levers the Mesa way, so ``mesa.batch_run`` can sweep them
        as columns. Both are validated like a scenario file."""
        self.spec = load_scenario(scenario, {**(overrides or {}), **{f"levers.{k}": v for k, v in levers.items()}})
        streams = Streams(root_sequence(rng))
        super().__init__(rng=streams.mesa_seed())
        d = self.spec.data
        layout = build_layout(d["city"], streams.get(Stream.LAYOUT))
        departments = department_names(d["world"]["categories"])
        s = self.state = CityState(
            world=d["world"], handling=d["handling"], costs=d["costs"], levers=Levers(d["levers"]),
            layout=layout, residents=ResidentTable(layout, d["world"], streams.get(Stream.RESIDENTS),
                                                   streams.get(Stream.NEIGHBOURHOOD), background=True,
                                                   draws=d["city"]["resident_draws"]),
            categories=Categories.from_scenario(d["world"]["categories"], departments,
                                                d["handling"]["entry_level_by_severity"]),
            departments=departments, streams=streams, pools=pool_sets(layout, len(departments)),
            choice=d["choice"])
        # start numba's compiler runtime now, not inside the first day's stages (and only now,
        # while the residents are drawn in their thread: the streams above seeded through numpy)
        warm_up()
        load_streams_kernel()

        # the parts, each owning its own state, composed (Staffing owns the Mesa staff agents)
        self.router = Router(s.handling, len(departments))
        self.staffing = Staffing(self, s)
        self.accounts = Accounts(s, self.staffing, d["run"]["warmup_days"], case_sink)
        self.emergence = Emergence(s, Calendar.from_scenario(d))
        self.choice = ChoiceModel(s, self.router)
        self.detection = Detection(s, self.router, self.choice)
        self.escalation = Escalation(s, self.router)
        self.service = Service(self.router, self.escalation, self.accounts)
        self.lapse = Lapse(self.escalation)
        self.warning = EarlyWarning(s, self.escalation, self.router, self.accounts)
        self.contagion = self.emergence.contagion = Contagion(s, self.escalation)
        self.collective = CollectiveAction(s, self.emergence)
        self.stories = StoryLog()
        self.staffing.sync(s)

        self.plan: list[StageSpec] = [
            StageSpec("staffing", self.staffing.sync, ("levers",), ("staff agents", "pools"),
                      "Bring staff agents and server pools in line with the staffing levers (budget cap)."),
            StageSpec("emergence", self.emergence, ("clock", "world", "layout", "categories"),
                      ("cases", "residents.tension"),
                      "New cases: a Poisson count per grid and category (background, and triggered by "
                      "contagion); residents picked in the grid, repeat disputants more often."),
            StageSpec("collective", self.collective, ("cases", "world", "layout"), ("cases", "residents.tension"),
                      "Threshold cascades among each community's aggrieved neighbours: collective "
                      "incidents emerge as new cases; the cases whose parties joined are marked."),
            StageSpec("escalation_hazard", self.escalation.hazard, ("cases", "residents", "world"),
                      ("cases.hazard",), "Today's escalation hazard of every open case."),
            StageSpec("detection", self.detection, ("cases", "levers", "world", "pools", "residents", "choice"),
                      ("cases",), "Latent cases found by patrol, screening, video or volunteers, or "
                                  "acted on by their residents (channel choice: lump, negotiate, grid "
                                  "worker, hotline, mediation, court, petition, going public), or faded; "
                                  "cases that reach the city triaged and routed."),
            *[StageSpec(f"handle_{lv.key}", partial(self.service.handle, level=lv),
                        ("cases", "pools", "levers", "handling"), ("cases", "pools", "failures_today"),
                        f"Serve the FCFS queues of every {lv.key}-level pool this day; settle services "
                        "that end: resolved, referred up (or to court), or failed at the top.")
              for lv in Level],
            StageSpec("lapse", self.lapse, ("cases", "world"), ("cases",),
                      "Parties of detected, waiting cases give up (serious cases less often): an exit."),
            StageSpec("escalation", self.escalation.end_of_day, ("cases", "levers"), ("cases",),
                      "Integrate the escalation hazard of unserved cases to the end of the day; the daily "
                      "review refers up cases that outgrew their level or waited too long; the district "
                      "balances its streets' backlogs (三级联动)."),
            StageSpec("warning", self.warning, ("reported cases", "backlog", "trust survey", "levers"),
                      ("warning scores", "residents.tension", "cases", "accounts"),
                      "预测预警: tally what the city saw today; weekly, score every grid's risk of an "
                      "escalation in the coming weeks and send pre-emptive visits to the flagged grids."),
            StageSpec("trust", trust_feedback, ("cases", "failures_today", "levers"),
                      ("residents.trust", "residents.tension"),
                      "Trust moves with today's outcomes (own, and neighbours' through the grid); "
                      "unresolved grievances keep their tension."),
            StageSpec("perception", self.choice.perceive, ("cases", "world"), ("choice.responsiveness",),
                      "Each grid's perceived responsiveness moves with today's city-handled outcomes."),
            StageSpec("returns", self.emergence.schedule_returns, ("cases", "world"), ("emergence.pending",),
                      "Unresolved exits (lapsed, decided against, lumped, petitioned, taken public) may "
                      "come back as new cases later."),
            StageSpec("contagion", self.contagion, ("cases", "escalation"), ("contagion.excitation",),
                      "Today's new cases and severity steps excite emergence nearby in the days ahead."),
            StageSpec("grievance_memory", self.collective.remember, ("cases",), ("collective.memory",),
                      "Parties of unresolved exits stay aggrieved in their community (fading)."),
            StageSpec("stories", self.stories, ("cases", "residents"), ("stories",),
                      "Today's closed cases, with their parties' trust after the outcome, to the "
                      "bounded log of recent stories (model.resident(i).story)."),
            StageSpec("close", self.accounts.close, ("cases",), ("cases", "accounts", "case sink"),
                      "Closed cases to the outcome totals and the case sink; dropped from the table."),
            StageSpec("account", self.accounts.account, ("pools", "staffing"), ("accounts",),
                      "Costs and staff time of the day."),
        ]
        self.stage_seconds = {stage.name: 0.0 for stage in self.plan}
        self.datacollector = mesa.DataCollector(model_reporters={k: partial(_today, k) for k in TIMESERIES_KEYS})
        # the Mesa grid and its property layers are built when first read (see ``space``)
        self._space: OrthogonalMooreGrid | None = None
        self._layers: dict[str, Any] = {}
        self._layers_stale = False
        # the residents' trust and propensity were drawn in a thread while the parts above
        # (staff agents, numba's runtime) were built; nothing above reads them
        s.residents.join()

    # ----------------------------------------------------------------- the parts, by name
    @property
    def levers(self) -> Levers:
        """The policy levers (plain attributes, validated on assignment, applied next step)."""
        return self.state.levers

    @property
    def layout(self) -> CityLayout:
        """The city's hierarchy and map placement."""
        return self.state.layout

    @property
    def residents(self) -> ResidentTable:
        """The resident table."""
        return self.state.residents

    @property
    def cases(self) -> Any:
        """The open-case table (:class:`~sim.engine.cases.CaseTable`), compacted: every row is an
        open case (the stages skip the closed rows ``close`` leaves in place until a compaction)."""
        self.state.cases.compact()
        return self.state.cases

    @property
    def day(self) -> int:
        """Days simulated so far."""
        return self.state.clock.day

    @property
    def plan_names(self) -> list[str]:
        """Stage names in the order they run each tick."""
        return [stage.name for stage in self.plan]

    # ----------------------------------------------------------------- the tick
    def step(self) -> None:
        """Simulate one day: run every stage of the plan in order."""
        s = self.state
        s.clock.start_day()
        s.today = dict.fromkeys(TIMESERIES_KEYS, 0)
        s.failures_today = []
        for stage in self.plan:
            tic = time.perf_counter()
            stage.run(s)
            self.stage_seconds[stage.name] += time.perf_counter() - tic
        self._layers_stale = True  # map layers are recomputed when next read (see ``layers``)
        self._record_day()
        s.clock.day += 1  # Mesa's step wrapper advances model.time by one
        # Mesa's own runners (run_model, batch_run) stop at the scenario's horizon; run(days) and
        # the app may go on
        self.running = s.clock.day < self.spec.data["run"]["days"]

    def run(self, days: int | None = None, progress: bool = False) -> CityModel:
        """Run ``days`` (default: the scenario's run.days) with an optional progress bar."""
        days = self.spec.data["run"]["days"] if days is None else days
        it: Any = range(days)
        if progress:
            from tqdm import tqdm

            # shown only when the run lasts more than two seconds
            it = tqdm(it, desc=f"{self.spec.name}", unit="day", leave=False, delay=2.0, file=sys.stderr)
        # Capped cases (severity 3) cannot step again: their hazard feeds only the escalation-risk
        # map layer, so it is computed on the run's last day alone (Escalation.capped_hazard; at
        # 5x most of the backlog is capped). step() on its own computes every hazard.
        try:
            for day in it:
                self.escalation.capped_hazard = day == days - 1
                self.step()
        finally:
            self.escalation.capped_hazard = True
        return self

    def _record_day(self) -> None:
        s = self.state
        t = s.today
        # one pass over the open cases for all the counts and figures below
        tallies, trust, kp = daily_record(s, self.accounts)
        counts = tallies["per_stage"]
        t["day"] = s.clock.day
        for name, st in (("latent", 0), ("reporting", 1), ("queued", 2), ("in_service", 3)):
            t[f"open_{name}"] = int(counts[st])
        sev = tallies["per_severity"]
        for k in range(4):
            t[f"open_severity_{k}"] = int(sev[k])
        closed = self.accounts.closed
        t["resolved_total"] = int(closed.resolved.sum())
        for i, lv in enumerate(LEVELS):
            t[f"resolved_at_{lv}"] = int(closed.by_level[i])
        t["mean_trust"] = trust
        for key in ("safety_index", "median_hours_to_resolution", "staff_cost", "escalated_share",
                    "caused_escalation_share", "staff_utilisation"):
            t[key] = kp[key]
        self.datacollector.collect(self)

    # ----------------------------------------------------------------- the map
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
    def grid(self) -> OrthogonalMooreGrid:
        """The map with its property layers up to date: what Mesa's own visualisation reads."""
        _ = self.layers
        return self.space

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
        lay, tab = self.layout, self.cases
        open_cases = np.bincount(tab["grid"], minlength=lay.n_grids)
        risk = np.bincount(tab["grid"], weights=tab["hazard"], minlength=lay.n_grids) * 24.0
        load = self.staffing.pool_load(Level.GRID)
        values = {"residents": lay.residents_per_grid, "open_cases": open_cases,
                  "trust": self.residents.grid_mean_trust(),
                  "escalations": self.escalation.escalations_by_grid,
                  "staff_load": np.where(np.isfinite(load), load, np.nan), "escalation_risk": risk,
                  "warning": self.warning.latest}
        for name, v in values.items():
            cells = np.full(lay.rows * lay.cols, np.nan)
            cells[lay.cell_of_grid] = v
            self._layers[name].data = cells.reshape(lay.rows, lay.cols)

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

    # ----------------------------------------------------------------- outputs
    def kpis(self) -> dict[str, Any]:
        """KPIs so far (the keys of ``cityrisk run --json``, with provenance)."""
        from .io.provenance import provenance

        out = compute_kpis(self.state, self.accounts)
        out.update(self.warning.kpis(self.state))
        out["days"] = self.day
        out["provenance"] = provenance(self.spec, self.state.streams.seed_label())
        return out

    def timeseries(self) -> pd.DataFrame:
        """Daily time series as a pandas DataFrame (one row per simulated day)."""
        return self.datacollector.get_model_vars_dataframe().reset_index(drop=True)

    @property
    def now_hours(self) -> float:
        """Simulated time in hours."""
        return self.day * 24.0

    def resident(self, index: int) -> Resident:
        """A :class:`~sim.engine.residents.Resident` view of one resident, with their story: their
        grievances in the log of recent closures and their open cases — the channels they tried,
        the outcomes and their trust after each (:class:`~sim.engine.stories.StoryEntry`)."""
        view = self.residents.view(index, self.now_hours)
        return dataclasses.replace(view, story=self.stories.of_resident(self.state, index))
