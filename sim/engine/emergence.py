"""Emergence: new disputes and risks, a Poisson count per grid and category each day — and the
return of grievances that left unresolved.

The expected count is residents × the category's rate × season × weekday × trend × a weekly
gamma multiplier per category (over-dispersion) × a weekly city-wide gamma multiplier × active
shocks × prevention (源头治理: spending per resident ``x`` removes ``max_reduction × preventable × (1 − exp(−x / scale))`` of a category's emergence).
Residents are then picked within the grid. Every per-case random quantity is drawn here, once,
from the stream of the mechanism that uses it (detection, fading and lapse clocks, escalation
thresholds, work, outcomes and latent difficulty, routing, whether and when it would return):
under a policy change the same case gets the same draws, so differences between runs come from
the policy, not from reshuffled luck (common random numbers).

A case that leaves unresolved (lapsed, decided against its parties; since issue 11 also lumped,
petitioned or taken public: ``RETURNING_EXITS``) comes back — with its
draw against ``world.recurrence_share`` — after an exponential wait of mean
``world.recurrence_days``, as a new case of the same residents and category, at least
intensified (severity ≥ 1). Returns draw their own clocks from qualified streams, so they do
not shift the draws of new cases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .calendar import Calendar, trend_factor
from .cases import RETURNING_EXITS, Stage
from .contagion import Contagion
from .draws import poisson_cells, poisson_outer
from .front_kernels import arrival_draws, clock_draws, exit_rows, new_case_rows
from .state import CityState
from .streams import Stream

COLLECTIVE_MIN_INVOLVED = 10


class Emergence:
    """Stage ``emergence``. Reads clock, layout, categories, world, streams; writes new case rows,
    residents' tension and ``today["new_cases"]``. Keeps the week's noise and the shocks' grids."""

    def __init__(self, s: CityState, calendar: Calendar | None = None) -> None:
        self.calendar = calendar or Calendar(None, s.world["start_day_of_year"])
        n_grids = s.layout.n_grids
        self.shock_masks = [s.streams.get(Stream.SHOCK, 0, i).random(n_grids) < shock["share_of_grids"]
                            for i, shock in enumerate(s.world["shocks"])]
        self._week_noise: dict[int, np.ndarray] = {}
        self._common_week: tuple[int, float] = (-1, 1.0)
        # grievances due to come back: return time (hours) and what the new case inherits
        self.pending: dict[str, np.ndarray] = {k: np.zeros(0, dt) for k, dt in _RETURN_FIELDS.items()}
        self.contagion: Contagion | None = None  # set by the model: grievances triggered nearby (§7.16)
        self._rate: np.ndarray | None = None  # today's rates, kept across days (see __call__)
        self._split = False  # whether contagion's split() has primed its excitation (see __call__)

    # ----------------------------------------------------------------- rates
    def daily_rates(self, s: CityState, out: np.ndarray | None = None) -> np.ndarray:
        """Expected new cases today per grid and category (seasons, weekdays, shocks, noise);
        into ``out`` (grids x categories) when given."""
        w, cats, lay, day = s.world, s.categories, s.layout, s.clock.day
        # deprived communities have more grievances (need factor, mean 1: §7.15)
        rate = _outer(lay.residents_per_grid * s.residents.need_factor, self._per_category(s), out)
        for shock, mask in zip(w["shocks"], self.shock_masks, strict=True):
            if _active(shock, day):
                cols = [cats.names.index(shock["category"])] if shock["category"] else slice(None)
                rate[np.ix_(mask, np.arange(cats.n)[cols])] *= shock["multiplier"]
        return rate

    def _per_category(self, s: CityState) -> np.ndarray:
        """Today's rate per resident of each category (before need factors and shocks)."""
        w, day = s.world, s.clock.day
        doy = self.calendar.day_of_year(day)
        season = 1.0 + w["seasonality_amplitude"] * np.cos(2 * np.pi * (doy - w["seasonality_peak_day"]) / 365)
        weekday = w["weekday_multipliers"][self.calendar.weekday_index(day)]
        per_cat = s.categories.rate / 1000.0 / 365.0 * w["emergence_multiplier"] * season * weekday
        per_cat = per_cat * trend_factor(w, self.calendar, day) * self._common_multiplier(s)
        return per_cat * self._week_multiplier(s) * self.prevention_factor(s)

    @staticmethod
    def prevention_factor(s: CityState) -> np.ndarray:
        """Share of each category's emergence left after prevention spending (源头治理)."""
        w, lev = s.world, s.levers
        per_resident = lev.prevention_million_yuan * 1e6 / max(s.layout.n_residents, 1)
        reach = 1.0 - np.exp(-per_resident / w["prevention_yuan_per_resident"])
        return 1.0 - w["prevention_max_reduction"] * s.categories.preventable * reach

    def _week_multiplier(self, s: CityState) -> np.ndarray:
        """Gamma noise (mean 1, variance ``overdispersion``) per category, one draw per week."""
        var = s.world["overdispersion"]
        if var <= 0:
            return np.ones(s.categories.n)
        week = s.clock.day // 7
        if week not in self._week_noise:
            shape = 1.0 / var
            draw = s.streams.get(Stream.OVERDISPERSION, week).gamma(shape, var, s.categories.n)
            self._week_noise = {week: draw}
        return self._week_noise[week]

    def _common_multiplier(self, s: CityState) -> float:
        """City-wide gamma noise (mean 1, variance ``overdispersion_common``), one draw per week
        shared by every category (weather, news: what moves all requests at once)."""
        var = s.world.get("overdispersion_common", 0.0)
        if var <= 0:
            return 1.0
        week = s.clock.day // 7
        if self._common_week[0] != week:
            draw = s.streams.get(Stream.OVERDISPERSION_COMMON, week).gamma(1.0 / var, var)
            self._common_week = (week, float(draw))
        return self._common_week[1]

    def shock_collective_boost(self, s: CityState, grid: np.ndarray, cat: np.ndarray) -> np.ndarray:
        """Extra collective-case share from active shocks."""
        boost = np.zeros(grid.size)
        for shock, mask in zip(s.world["shocks"], self.shock_masks, strict=True):
            if _active(shock, s.clock.day) and shock["collective_boost"] > 0:
                hit = mask[grid]
                if shock["category"]:
                    hit = hit & (cat == s.categories.names.index(shock["category"]))
                boost += np.where(hit, shock["collective_boost"], 0.0)
        return boost

    # ----------------------------------------------------------------- the stage
    def __call__(self, s: CityState) -> None:
        """New cases: a Poisson count per grid and category, then residents picked within the grid.
        With contagion (§7.16) the background and the triggered grievances are drawn apart, each
        from its own stream, so that a policy that changes the triggered ones leaves every draw of
        the background cases as it was (common random numbers)."""
        day, n_cat = s.clock.day, s.categories.n
        con = self.contagion if self.contagion is not None and self.contagion.on else None
        rng = s.streams.state(Stream.EMERGENCE, day)
        flat = None
        if (self._split or con is None) and not any(_active(shock, day) for shock in s.world["shocks"]):
            # the usual day: the background rates (split()'s rate × background share) made
            # cell by cell in the draws' pass, no grid × category array (None: numpy's draws)
            flat = poisson_outer(rng, s.layout.residents_per_grid, s.residents.need_factor, self._per_category(s),
                                 1.0 if con is None else con.background)
        if flat is None:
            # [grids, categories], expected new cases today, in a buffer kept across days (and
            # the background rates in the same buffer)
            shape = (s.layout.n_grids, n_cat)
            if self._rate is None or self._rate.shape != shape:
                self._rate = np.empty(shape)
            rate = self.daily_rates(s, self._rate)
            if con is not None:
                rate = con.split(rate, rate)[0]  # the first call primes the excitation
                self._split = True
            flat = poisson_cells(rng, rate)  # rng.poisson(rate)'s counts, each cell repeated by its count
        n = self._spawn(s, flat, n_cat, rng, ())
        k = 0
        if con is not None:
            rng = s.streams.state(Stream.CONTAGION, day)
            k = self._spawn(s, poisson_cells(rng, con.excitation), n_cat, rng, (3,))
        s.today["new_cases"] = n + k
        s.today["triggered"] = k
        self._add_returns(s)

    def _spawn(self, s: CityState, flat: np.ndarray, n_cat: int, rng: np.ndarray, qualifiers: tuple[int, ...]) -> int:
        """The new cases of the cells ``flat`` (:func:`~sim.engine.draws.poisson_cells`' of the
        grid × ``n_cat`` rates), their draws from the stream ``rng`` (its PCG64 state words:
        :meth:`~sim.engine.streams.Streams.state`, after the counts; their clocks from the
        streams qualified by ``qualifiers``); returns how many."""
        t0 = s.clock.t0
        n = flat.size
        if n == 0:
            return 0
        # the draws and the table's rows in compiled passes, numpy's numbers in numpy's order
        # (sim/engine/front_kernels.py); picking residents stays the residents' own
        grid, cat, t, u = arrival_draws(rng, flat, n_cat, float(t0))
        cats, lay = s.categories, s.layout
        res_a = s.residents.pick(u[:, 0], grid)  # repeat disputants are picked more often (§7.15)
        tab = s.cases
        sl = tab.append(n)
        res_b = new_case_rows(
            rng, grid, cat, t, u, res_a, lay.resident_start, lay.residents_per_grid, cats.collective,
            self.shock_collective_boost(s, grid, cat), cats.pair, cats.severity_cum, cats.proactive_only,
            COLLECTIVE_MIN_INVOLVED, bool(s.world["collective_action"]), sl.start, tab["category"], tab["grid"],
            tab["resident_a"], tab["resident_b"], tab["n_involved"], tab["severity0"], tab["severity"],
            tab["t_emerge"], tab["proactive_only"])
        _draw_clocks(s, sl, n, qualifiers)
        tension = s.world["tension_per_case"]
        s.residents.add_tension(res_a, tension, t0)
        s.residents.add_tension(res_b, tension, t0)
        return n

    # ----------------------------------------------------------------- returning grievances
    def schedule_returns(self, s: CityState) -> None:
        """Stage ``returns``: of today's unresolved exits (``RETURNING_EXITS``), those whose
        draw falls under ``world.recurrence_share`` are set to come back as new cases."""
        tab, w = s.cases, s.world
        words, base = tab.words("stage")
        rows = exit_rows(tab["stage"], words, base, _RETURNING)  # stage_rows(stage, RETURNING_EXITS)
        rows = rows[tab["return_u"][rows] < w["recurrence_share"]]
        if rows.size == 0:
            return
        new = {"t": tab["t_close"][rows] + tab["return_wait"][rows] * w["recurrence_days"] * 24.0,
               "severity": np.maximum(tab["severity"][rows], 1),
               "recurrence": np.minimum(tab["recurrence"][rows].astype(np.int64) + 1, 100)}
        for k in ("category", "grid", "resident_a", "resident_b", "n_involved", "channels_tried"):
            new[k] = tab[k][rows]
        self.pending = {k: np.concatenate([self.pending[k], new[k].astype(dt)])
                        for k, dt in _RETURN_FIELDS.items()}

    def _add_returns(self, s: CityState) -> None:
        """Grievances whose return falls today become new cases (after today's new cases)."""
        p = self.pending
        due = p["t"] < s.clock.t1
        if not due.any():
            return
        order = np.flatnonzero(due)[np.argsort(p["t"][due], kind="stable")]
        n = order.size
        tab = s.cases
        sl = tab.append(n)
        for k in ("category", "grid", "resident_a", "resident_b", "n_involved", "recurrence", "channels_tried"):
            tab[k][sl] = p[k][order]
        tab["severity0"][sl] = p["severity"][order]
        tab["severity"][sl] = p["severity"][order]
        tab["t_emerge"][sl] = np.maximum(p["t"][order], s.clock.t0)
        _draw_clocks(s, sl, n, (1,))
        self.pending = {k: v[~due] for k, v in p.items()}
        s.today["returned"] = n
        t0 = s.clock.t0
        s.residents.add_tension(tab["resident_a"][sl], s.world["tension_per_case"], t0)


_RETURNING = np.zeros(256, np.bool_)  # the codes of RETURNING_EXITS (closed stages, 4-127: exit_rows)
_RETURNING[np.asarray(RETURNING_EXITS, np.int64)] = True

_RETURN_FIELDS = {"t": np.float64, "category": np.int16, "grid": np.int32, "resident_a": np.int64,
                  "resident_b": np.int64, "n_involved": np.int32, "severity": np.int8, "recurrence": np.int8,
                  "channels_tried": np.uint8}


def _draw_clocks(s: CityState, sl: slice, n: int, qualifiers: tuple[int, ...]) -> None:
    """Draw every per-case random quantity of the new rows ``sl`` from its mechanism's stream
    (``qualifiers`` separate the streams of returning grievances from those of new cases)."""
    tab = s.cases
    st = s.streams.states(_CLOCK_STREAMS, s.clock.day, *qualifiers)  # one compiled seeding for the seven
    clock_draws(st[0], st[1], st[2], st[3], st[4], st[5], st[6],
                sl.start, sl.stop, int(Stage.LATENT), *(tab[c] for c in _CLOCK_COLUMNS))


_CLOCK_STREAMS = (Stream.DETECTION, Stream.ESCALATION, Stream.SERVICE, Stream.OUTCOME, Stream.ROUTING,
                  Stream.RECURRENCE, Stream.CHOICE)  # choice: sim/engine/choice.py


_CLOCK_COLUMNS = ("stage", "acc_from", "t_emerge", "detect_left", "fade_left", "channel_u", "lapse_left",
                  "esc_thresholds", "service_u", "outcome_u", "difficulty", "route_u", "return_u", "return_wait",
                  "choice_u")


def _outer(per_grid: np.ndarray, per_cat: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``per_grid[:, None] * per_cat[None, :]`` (into ``out`` when given), the same products: one
    column at a time, since numpy's broadcast loop over rows of a few categories spends most of its
    time per row (3x)."""
    if out is None:
        out = np.empty((per_grid.size, per_cat.size))
    for c in range(per_cat.size):
        np.multiply(per_grid, per_cat[c], out=out[:, c])
    return out


def _active(shock: dict[str, Any], day: int) -> bool:
    return bool(shock["start_day"] <= day < shock["start_day"] + shock["days"])


draw_case_clocks = _draw_clocks  # the same draws for the collective incidents of §7.17 (qualifier 2)
