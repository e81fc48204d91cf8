"""Service: capacity-limited handling in continuous time, and outcomes.

Levels are served bottom-up within a day, so a case that fails at one level and reaches the next
before the day ends is handled there the same day. Within a pool, service is first come first
served, or by severity (non-preemptive priority, ``handling.queue_discipline``). Work per case =
a unit exponential drawn at emergence × the level's mean hours × the category's multiplier ×
(1 + factor × severity), spread over the handlers' working hours.

Success: the level's chance (raised by mediator training at mediation levels and by integration
at department levels, lowered by severity) shifted on the logit scale by the case's latent
difficulty, which is the same at every level — so a case that failed below is harder above. A
failure is referred up by the router; at the top level it leaves the system as decided against
the parties (``Stage.UNRESOLVED``): the grievance stays with its residents.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .accounting import Accounts
from .cases import Stage
from .escalation import Escalation
from .intrinsics import repeat_byte
from .levels import DEPARTMENT_LEVELS, MEDIATION_LEVELS, TOP, Level
from .queue_heads import _level_heads, _rows_at, level_heads_in_parts  # noqa: F401 (tests use them)
from .routing import Router
from .service_kernels import mark_started, settle_outcomes, with_ends
from .state import CityState

_P_EPS = 1e-9  # keeps the logit of a certain success finite
_HEADS = 32  # FCFS: rows kept per pool queue a day (more start only when staff outnumber them)


def work_hours(s: CityState, rows: np.ndarray, level: Level) -> np.ndarray:
    """Calendar hours of work for each case ``rows`` at ``level`` for a handler of speed 1."""
    tab, h = s.cases, s.handling
    # compiled, in numpy's order and dtypes: service_u (float32) × mean (as float32) × multiplier
    # × (1 + factor × severity) × 24 / hours per day
    return _work_hours(np.asarray(rows, dtype=np.int64), tab["service_u"], int(level),
                       np.float32(h["mean_hours"][level]), s.categories.service_mult, tab["category"],
                       tab["severity"], float(h["severity_service_factor"]), float(h["hours_per_day"][level]))


def success_probability(s: CityState, rows: np.ndarray, level: Level) -> np.ndarray:
    """Chance that handling at ``level`` resolves each case ``rows``."""
    h, lev = s.handling, s.levers
    gain = 0.0
    if level in MEDIATION_LEVELS:  # mediation: professionalisation raises success (枫桥经验)
        gain = h["training_success_gain"] * lev.mediator_training
    if level in DEPARTMENT_LEVELS:  # joint handling across departments
        gain = h["integration_success_gain"] * lev.resource_integration
    weight = h["difficulty_weight"]
    # compiled passes with numpy's arithmetic in its order; the log and exp stay numpy's
    rows = np.asarray(rows, dtype=np.int64)
    tab = s.cases
    p = _chance(rows, float(h["success"][level]), level in MEDIATION_LEVELS or level in DEPARTMENT_LEVELS,
                float(gain), float(h["severity_success_penalty"]), tab["severity"], _P_EPS, weight != 0)
    if weight == 0:
        return p
    np.log(p, out=p)  # log odds
    _minus_logit(p, rows, float(weight), tab["difficulty"])
    np.exp(p, out=p)
    return _logistic(p)


class Service:
    """Stages ``handle_<level>``: serve every pool of a level for the day, then settle the
    services that end today. Reads cases, pools, levers, handling, clock; writes cases (stage,
    times, server), pools (free times, busy hours) and ``failures_today``."""

    def __init__(self, router: Router, escalation: Escalation, accounts: Accounts) -> None:
        self.router = router
        self.escalation = escalation
        self.accounts = accounts
        # how _heads scans each level's queue (timing only): densely at first at the court, where
        # a backlog collects, sparsely below it; then by the share of rows found there last time
        self._dense = [lv == TOP for lv in Level]
        # per level and part of a split pass (queue_heads.py), the FCFS heads' heaps (pools x _HEADS)
        # and per-pool counts, kept across days: a fresh 3 MB array for the grid level's 13,000
        # pools cost a page fault per pool touched, every day (see _level_heads)
        self._scratch: dict[tuple[int, int], tuple[np.ndarray, ...]] = {}

    def handle(self, s: CityState, level: Level) -> None:
        """Serve the queue of every pool at ``level`` for this day, then settle finished services."""
        tab, t1 = s.cases, s.clock.t1
        # One compiled pass: cases arrived at this level's queues (marked QUEUED here; those that
        # start below become IN_SERVICE), and services here ending today.
        # Only the queues of pools with a server free before t1 are served: behind staff busy all
        # day nobody can start, however long the queue (those cases are just marked QUEUED).
        pools = s.pools[level]
        fcfs = s.handling["queue_discipline"] != "priority"
        if fcfs:
            # FCFS: only the heads of each pool's queue can start today, so the pass keeps the
            # _HEADS first of each pool (by arrival, then case id) instead of every waiting row
            # (a court queue of 500,000 cases starts a dozen a day); served the same way
            heads, _, cut_pools, done = self._heads(s, level)
            waiting = np.sort(heads)  # ascending rows, as _level_rows gives them
        else:
            waiting, done = _level_rows(tab["level"], tab["stage"], tab["t_arrive"], tab["t_end"], int(level),
                                        float(t1), tab["pool"], pools.can_start(t1))
        if waiting.size:
            # priority: higher severity first (non-preemptive), then arrival, then case id
            priority = None if fcfs else -tab["severity"].astype(np.int64)
            cut = fcfs and cut_pools.size > 0
            free0 = pools.free.copy() if cut else None
            pos, sst, end, server = pools.serve_rows(waiting, tab["pool"], tab["t_arrive"],
                                                     work_hours(s, waiting, level), tab["case_id"], t1,
                                                     priority)
            if cut and (np.bincount(tab["pool"][waiting[pos]], minlength=pools.n_pools)[cut_pools] >= _HEADS).any():
                # a cut queue started all its kept heads: the next might have started too; serve
                # again from every waiting row (rare; the result is the same either way)
                pools.free[:] = free0
                pools.refresh()
                waiting, done = _level_rows(tab["level"], tab["stage"], tab["t_arrive"], tab["t_end"],
                                            int(level), float(t1), tab["pool"], pools.can_start(t1))
                pos, sst, end, server = pools.serve_rows(waiting, tab["pool"], tab["t_arrive"],
                                                         work_hours(s, waiting, level), tab["case_id"], t1)
            self.accounts.book_busy(level, sst, end)
            si = waiting[pos]
            self.escalation.accrue(s, si, sst)  # the clock stops when service starts
            mark_started(tab, si, sst, end, server, int(level), int(Stage.IN_SERVICE))
            done = with_ends(done, si, end, t1)  # with those started and finished today
        self.settle(s, level, done)

    def _heads(self, s: CityState, level: Level) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        """:func:`_level_heads` over the table, or — where under one row in eight is at this level
        (the levels below the court, in a large backlog) — over the rows at the level (found
        eight rows at a time, ``_rows_at``): the same rows in the same order, so the same heads,
        counts and stage marks; only the scan differs. (One pass that skips rows itself was
        tried: its loop made the dense scan of a long court queue half as slow again. The list
        of rows is read in a compiled case of its own, not through copies of the rows: on a 5x
        day-100 table 40-50% less time below the court.)"""
        tab, t1, pools = s.cases, float(s.clock.t1), s.pools[level]

        def scratch(part: int) -> tuple[np.ndarray, ...]:  # part's heaps and per-pool arrays, kept
            got = self._scratch.get((int(level), part))
            if got is None or got[0].shape[0] != pools.n_pools:
                n = pools.n_pools
                got = self._scratch[(int(level), part)] = (
                    np.empty((n, _HEADS), dtype=np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64),
                    np.full(n, -np.inf), np.empty(n, np.int64))
            return got

        cols = (tab["level"], tab["stage"], tab["t_arrive"], tab["t_end"], tab["case_id"], int(level), t1,
                tab["pool"], pools.first_free)
        if self._dense[level]:
            heads, n_wait, cut, done = level_heads_in_parts(None, cols, scratch, tab.n)
            # waiting rows of the pools that can start, and ending services: a lower bound of the
            # rows at the level, so switch only when it is far below one in eight
            self._dense[level] = (n_wait + done.size) * 32 >= tab.n
            return heads, n_wait, cut, done
        words, base = tab.words("level")
        rows = _rows_at(tab["level"], words, base, repeat_byte(int(level)), int(level))
        self._dense[level] = rows.size * 8 >= tab.n
        return level_heads_in_parts(rows, cols, scratch, rows.size)

    def settle(self, s: CityState, level: Level, done: np.ndarray) -> None:
        """Cases whose service at ``level`` ends today (sorted rows ``done``): resolved, or failed —
        referred up (or to court), or closed as failed at the top level."""
        if done.size == 0:
            return
        tab = s.cases
        p = success_probability(s, done, level)
        # one compiled pass: the outcome of each service, attempts counted (cases after the
        # warm-up), resolved cases — and at the top level failed ones — closed at their end
        fi, rest, n_att, n_ok = settle_outcomes(tab, done, p, int(level), self.accounts.warmup_hours, level == TOP,
                                                int(Stage.RESOLVED), int(Stage.UNRESOLVED))
        self.accounts.count_attempts(level, n_att, n_ok)
        if fi.size == 0:
            return
        s.failures_today.append(fi)
        if level == TOP:  # decided against the parties: an explicit exit, the grievance remains
            return
        # the rest of the outcome uniform above p (itself uniform) decides court vs up
        self.router.refer_failed(s, fi, level, rest)


# ----------------------------------------------------------------- compiled kernels
@njit(cache=True)
def _work_hours(rows, service_u, level, mean, service_mult, category, severity, factor,
                hpd):  # pragma: no cover - compiled
    """:func:`work_hours` for ``rows``."""
    out = np.empty(rows.shape[0], np.float64)
    for k in range(rows.shape[0]):
        i = rows[k]
        w = np.float64(service_u[i, level] * mean) * service_mult[category[i]]
        w = w * (1.0 + factor * np.float64(severity[i]))
        out[k] = w * 24.0 / hpd
    return out


@njit(cache=True)
def _chance(rows, success, raised, gain, penalty, severity, eps, odds):  # pragma: no cover - compiled
    """:func:`success_probability` before the difficulty: ``success (+ gain) - penalty ×
    severity``, clipped to ``[eps, 1 - eps]``; as odds ``p / (1 - p)`` if ``odds``."""
    out = np.empty(rows.shape[0], np.float64)
    for k in range(rows.shape[0]):
        p = success
        if raised:
            p = p + gain
        p = p - penalty * np.float64(severity[rows[k]])
        p = min(max(p, eps), 1.0 - eps)
        out[k] = p / (1.0 - p) if odds else p
    return out


@njit(cache=True)
def _minus_logit(x, rows, weight, difficulty):  # pragma: no cover - compiled
    """``x`` (log odds) to ``-(x - weight × difficulty)``, in place."""
    for k in range(rows.shape[0]):
        x[k] = -(x[k] - weight * np.float64(difficulty[rows[k]]))


@njit(cache=True)
def _logistic(e):  # pragma: no cover - compiled
    """``1 / (1 + e)`` (``e``: the exp of minus the logit), in place."""
    for k in range(e.shape[0]):
        e[k] = 1.0 / (1.0 + e[k])
    return e


@njit(cache=True)
def _level_rows(level_col, stage, t_arrive, t_end, level, t1, pool,
                can_start):  # pragma: no cover - compiled
    """Rows at ``level`` that wait for service (reporting or queued, arrived before ``t1``; their
    stage is set to QUEUED) in a pool that ``can_start`` someone, and rows in service there whose
    service ends before ``t1``."""
    n = stage.shape[0]
    waiting = np.empty(n, np.int64)
    done = np.empty(n, np.int64)
    w = 0
    d = 0
    for i in range(n):
        if level_col[i] == level:
            s = stage[i]
            if (s == 1 or s == 2) and t_arrive[i] < t1:
                stage[i] = 2
                if can_start[pool[i]]:
                    waiting[w] = i
                    w += 1
            elif s == 3 and t_end[i] < t1:
                done[d] = i
                d += 1
    return waiting[:w].copy(), done[:d].copy()
