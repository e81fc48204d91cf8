"""Stages that handle cases: FCFS service per level, outcomes, escalation up the chain.

Levels are handled bottom-up within a tick, so a case that fails at one level and reaches the next
level before the tick ends is handled there in the same tick. The escalation clock (severity
steps) runs from emergence while a case is not being served: its integrated hazard is compared
with three unit-exponential thresholds drawn at emergence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ..config.params import N_LEVELS
from .cases import Stage
from .flow import entry_level, route

if TYPE_CHECKING:
    from ..model import CityModel

COURT = N_LEVELS - 1


def accrue_escalation(m: CityModel, idx: np.ndarray, until: np.ndarray | float) -> None:
    """Integrate today's escalation hazard over each case's exposure up to ``until``; apply the
    severity steps whose thresholds were crossed, recording when severity first reached 2."""
    if idx.size == 0:
        return
    tab = m.cases
    # One compiled pass integrates every case; only those that crossed a threshold come back
    # (a case's severity is always severity0 + thresholds crossed, capped at 3).
    pos, k0, k1, start, before = _accrue(
        np.asarray(idx, dtype=np.int64), np.atleast_1d(np.asarray(until, dtype=np.float64)),
        float(m.t0), tab["acc_from"], tab["hazard"], tab["hazard_acc"], tab["esc_thresholds"])
    if pos.size == 0:
        return
    idx = idx[pos]
    hz = tab["hazard"][idx]
    thr = tab["esc_thresholds"][idx].astype(np.float64)
    sev0 = tab["severity0"][idx].astype(np.int64)
    sev_before = np.minimum(sev0 + k0, 3)
    sev_after = np.minimum(sev0 + k1, 3)
    m.today["escalations"] += int((sev_after - sev_before).sum())
    np.add.at(m.escalations_by_grid, tab["grid"][idx], sev_after - sev_before)
    tab["severity"][idx] = sev_after
    reach = (sev_before < 2) & (sev_after >= 2)
    if reach.any():
        j = (k0 + (2 - sev_before) - 1)[reach]  # index of the threshold that took it to 2
        with np.errstate(divide="ignore", invalid="ignore"):
            t2 = start[reach] + (thr[reach, j] - before[reach]) / hz[reach]
        tab["t_severity2"][idx[reach]] = t2


@njit(cache=True)
def _accrue(rows, until, t0, acc_from, hazard, hazard_acc, thr):  # pragma: no cover - compiled
    """Integrate ``hazard`` from ``max(acc_from, t0)`` to ``until`` (one value, or one per row)
    for ``rows``; returns the positions in ``rows`` that crossed thresholds, with the number of
    thresholds crossed before and after, the start of the exposure and the hazard before."""
    n = rows.shape[0]
    pos = np.empty(n, np.int64)
    k0s = np.empty(n, np.int64)
    k1s = np.empty(n, np.int64)
    starts = np.empty(n, np.float64)
    befores = np.empty(n, np.float64)
    one = until.shape[0] == 1
    hit = 0
    for r in range(n):
        i = rows[r]
        u = until[0] if one else until[r]
        a = acc_from[i]
        start = a if a >= t0 else t0
        span = u - start
        if not span >= 0.0:
            span = 0.0
        before = hazard_acc[i]
        after = before + hazard[i] * span
        k0 = 0
        k1 = 0
        for c in range(3):
            t = np.float64(thr[i, c])
            if t <= before:
                k0 += 1
            if t <= after:
                k1 += 1
        hazard_acc[i] = after
        acc_from[i] = u
        if k1 != k0:
            pos[hit] = r
            k0s[hit] = k0
            k1s[hit] = k1
            starts[hit] = start
            befores[hit] = before
            hit += 1
    return pos[:hit], k0s[:hit], k1s[:hit], starts[:hit], befores[:hit]


def work_hours(m: CityModel, idx: np.ndarray, level: int) -> np.ndarray:
    """Calendar hours of work for each case at ``level`` for a handler of speed 1."""
    tab, h = m.cases, m.handling
    mean, factor, hpd = h["mean_hours"][level], h["severity_service_factor"], h["hours_per_day"][level]
    if all(type(v) in (float, int) for v in (mean, factor, hpd)):  # always, for validated scenarios
        # compiled: the same products in the same order and dtypes as below (first one float32)
        return _work_hours(np.asarray(idx, dtype=np.int64), tab["service_u"], level, np.float32(mean),
                           m.categories.service_mult, tab["category"], tab["severity"], float(factor),
                           float(hpd))
    sev = tab["severity"][idx]
    work = (tab["service_u"][idx, level] * mean
            * m.categories.service_mult[tab["category"][idx]] * (1.0 + factor * sev))
    return work * 24.0 / hpd  # staff work hours_per_day of every 24


@njit(cache=True)
def _work_hours(rows, service_u, level, mean, service_mult, category, severity, factor,
                hpd):  # pragma: no cover - compiled
    """:func:`work_hours` for ``rows``: service_u (float32) × mean (float32) × multiplier ×
    (1 + factor × severity) × 24 / hours per day."""
    out = np.empty(rows.shape[0], np.float64)
    for k in range(rows.shape[0]):
        i = rows[k]
        w = np.float64(service_u[i, level] * mean) * service_mult[category[i]]
        w = w * (1.0 + factor * np.float64(severity[i]))
        out[k] = w * 24.0 / hpd
    return out


def success_probability(m: CityModel, idx: np.ndarray, level: int) -> np.ndarray:
    """Chance that handling at ``level`` resolves each case."""
    h, lev = m.handling, m.levers
    p = np.full(idx.size, h["success"][level])
    if level in (1, 2):  # mediation: professionalisation raises success (枫桥经验)
        p += h["training_success_gain"] * lev.mediator_training
    if level in (3, 4):  # joint handling across departments
        p += h["integration_success_gain"] * lev.resource_integration
    p -= h["severity_success_penalty"] * m.cases["severity"][idx]
    return np.clip(p, 0.0, 1.0)


def handle_level(m: CityModel, level: int) -> None:
    """Serve the queue of every pool at ``level`` for this tick, then settle finished services."""
    tab, t1 = m.cases, m.t1
    # One compiled pass: cases arrived at this level's queues (marked QUEUED here; those that
    # start below become IN_SERVICE), and services here ending today.
    # Only the queues of pools with a server free before t1 are served: behind staff busy all
    # day nobody can start, however long the queue (those cases are just marked QUEUED).
    pools = m.pools[level]
    waiting, done = _level_rows(tab["level"], tab["stage"], tab["t_arrive"], tab["t_end"], level,
                                float(t1), tab["pool"], pools.can_start(t1))
    if waiting.size:
        pos, sst, end, server = pools.serve_rows(waiting, tab["pool"], tab["t_arrive"],
                                                 work_hours(m, waiting, level), tab["case_id"], t1)
        si = waiting[pos]
        accrue_escalation(m, si, sst)
        tab["acc_from"][si] = np.inf
        wait = sst - tab["t_arrive"][si]
        first = tab["visits"][si] == 0
        tab["first_wait"][si[first]] = wait[first]
        tab["esc_before_service"][si[first]] = (tab["severity"][si[first]] - tab["severity0"][si[first]])
        tab["wait_total"][si] += wait
        tab["visits"][si] += 1
        tab["t_start"][si] = sst
        tab["t_end"][si] = end
        tab["server"][si] = server
        tab["stage"][si] = Stage.IN_SERVICE
        ends = si[end < t1]  # started and finished today (rows disjoint from ``done``)
        if ends.size:
            done = np.sort(np.concatenate([done, ends]))
    settle(m, level, done)


def settle(m: CityModel, level: int, done: np.ndarray | None = None) -> None:
    """Cases whose service at ``level`` ends this tick: resolved, or sent one level up (or to court).

    ``done`` (sorted rows), when the caller knows them, saves a pass over the table."""
    tab = m.cases
    if done is None:
        done = np.flatnonzero((tab["level"] == level) & (tab["stage"] == Stage.IN_SERVICE)
                              & (tab["t_end"] < m.t1))
    if done.size == 0:
        return
    p = success_probability(m, done, level)
    u = tab["outcome_u"][done, level]
    ok = u < p
    ri = done[ok]
    tab["stage"][ri] = Stage.RESOLVED
    tab["t_close"][ri] = tab["t_end"][ri]
    fi = done[~ok]
    if fi.size == 0:
        return
    m.failures_today.append(fi.copy())
    if level == COURT:
        tab["stage"][fi] = Stage.FAILED
        tab["t_close"][fi] = tab["t_end"][fi]
        return
    # Failure: the rest of the outcome uniform above p is itself uniform; it decides court vs up.
    pf = p[~ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = np.where(pf < 1.0, (u[~ok] - pf) / (1.0 - pf), 0.0)
    nxt = np.maximum(level + 1, entry_level(m, tab["severity"][fi]))
    if level == 3:
        nxt = np.where(rest < m.handling["court_share_on_failure"], COURT, nxt)
    nxt = np.minimum(nxt, COURT)
    t_ready = tab["t_end"][fi]
    tab["acc_from"][fi] = t_ready
    route(m, fi, nxt, t_ready, m.handling["hops_per_escalation"])


def end_of_tick_escalation(m: CityModel) -> None:
    """Integrate the escalation hazard of every unserved open case up to the end of the tick;
    cases that outgrew their queue's level (e.g. a collective incident waiting for a community
    mediator) are passed up to the entry level of their new severity."""
    tab = m.cases
    # unserved: latent, reporting or queued (stages 0..2), exposure not yet integrated to t1
    idx = _unserved(tab["stage"], tab["acc_from"], float(m.t1))
    accrue_escalation(m, idx, m.t1)
    # waiting (not latent, has a level) at a level below the entry level of its severity
    waiting = _outgrown(idx, tab["stage"], tab["level"], tab["severity"], m.entry_by_severity)
    target = entry_level(m, tab["severity"][waiting])
    up = target > tab["level"][waiting]
    if up.any():
        # the platform notices at its end-of-day review; the case keeps its waiting clock running
        route(m, waiting[up], target[up], np.full(int(up.sum()), m.t1), m.handling["hops_per_escalation"])
        m.today["passed_up"] = int(up.sum())


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


@njit(cache=True)
def _unserved(stage, acc_from, t1):  # pragma: no cover - compiled
    """Rows in stages 0..2 (latent, reporting, queued) with ``acc_from < t1``."""
    out = np.empty(stage.shape[0], np.int64)
    k = 0
    for i in range(stage.shape[0]):
        if stage[i] <= 2 and stage[i] >= 0 and acc_from[i] < t1:
            out[k] = i
            k += 1
    return out[:k]


@njit(cache=True)
def _outgrown(rows, stage, level, severity, entry):  # pragma: no cover - compiled
    """Of ``rows``, those waiting (not latent, level >= 0) below their severity's entry level."""
    out = np.empty(rows.shape[0], np.int64)
    k = 0
    for r in range(rows.shape[0]):
        i = rows[r]
        if stage[i] != 0 and level[i] >= 0 and entry[severity[i]] > level[i]:
            out[k] = i
            k += 1
    return out[:k]
