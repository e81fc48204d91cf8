"""Stages that handle cases: FCFS service per level, outcomes, escalation up the chain.

Levels are handled bottom-up within a tick, so a case that fails at one level and reaches the next
level before the tick ends is handled there in the same tick. The escalation clock (severity
steps) runs from emergence while a case is not being served: its integrated hazard is compared
with three unit-exponential thresholds drawn at emergence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .cases import Stage
from .flow import entry_level, route
from .params import N_LEVELS

if TYPE_CHECKING:
    from .model import CityModel

COURT = N_LEVELS - 1


def accrue_escalation(m: CityModel, idx: np.ndarray, until: np.ndarray | float) -> None:
    """Integrate today's escalation hazard over each case's exposure up to ``until``; apply the
    severity steps whose thresholds were crossed, recording when severity first reached 2."""
    if idx.size == 0:
        return
    tab = m.cases
    start = np.maximum(tab["acc_from"][idx], m.t0)
    span = np.maximum(np.asarray(until, dtype=np.float64) - start, 0.0)
    hz = tab["hazard"][idx]
    before = tab["hazard_acc"][idx]
    after = before + hz * span
    thr = tab["esc_thresholds"][idx].astype(np.float64)
    k0 = (thr <= before[:, None]).sum(axis=1)
    k1 = (thr <= after[:, None]).sum(axis=1)
    steps = k1 - k0
    tab["hazard_acc"][idx] = after
    tab["acc_from"][idx] = until
    if not steps.any():
        return
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


def work_hours(m: CityModel, idx: np.ndarray, level: int) -> np.ndarray:
    """Calendar hours of work for each case at ``level`` for a handler of speed 1."""
    tab, h = m.cases, m.handling
    sev = tab["severity"][idx]
    work = (tab["service_u"][idx, level] * h["mean_hours"][level]
            * m.categories.service_mult[tab["category"][idx]] * (1.0 + h["severity_service_factor"] * sev))
    return work * 24.0 / h["hours_per_day"][level]  # staff work hours_per_day of every 24


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
    stage = tab["stage"]
    waiting = np.flatnonzero((tab["level"] == level) & ((stage == Stage.REPORTING) | (stage == Stage.QUEUED))
                             & (tab["t_arrive"] < t1))
    if waiting.size:
        pools = m.pools[level]
        start, end, server = pools.serve(tab["pool"][waiting], tab["t_arrive"][waiting],
                                         work_hours(m, waiting, level), tab["case_id"][waiting], t1)
        ok = server >= 0
        si, sst = waiting[ok], start[ok]
        accrue_escalation(m, si, sst)
        tab["acc_from"][si] = np.inf
        wait = sst - tab["t_arrive"][si]
        first = tab["visits"][si] == 0
        tab["first_wait"][si[first]] = wait[first]
        tab["esc_before_service"][si[first]] = (tab["severity"][si[first]] - tab["severity0"][si[first]])
        tab["wait_total"][si] += wait
        tab["visits"][si] += 1
        tab["t_start"][si] = sst
        tab["t_end"][si] = end[ok]
        tab["server"][si] = server[ok]
        tab["stage"][si] = Stage.IN_SERVICE
        tab["stage"][waiting[~ok]] = Stage.QUEUED
    settle(m, level)


def settle(m: CityModel, level: int) -> None:
    """Cases whose service at ``level`` ends this tick: resolved, or sent one level up (or to court)."""
    tab = m.cases
    done = np.flatnonzero((tab["level"] == level) & (tab["stage"] == Stage.IN_SERVICE) & (tab["t_end"] < m.t1))
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
    stage = tab["stage"]
    idx = np.flatnonzero(((stage == Stage.LATENT) | (stage == Stage.REPORTING) | (stage == Stage.QUEUED))
                         & (tab["acc_from"] < m.t1))
    accrue_escalation(m, idx, m.t1)
    waiting = idx[(tab["stage"][idx] != Stage.LATENT) & (tab["level"][idx] >= 0)]
    target = entry_level(m, tab["severity"][waiting])
    up = target > tab["level"][waiting]
    if up.any():
        # the platform notices at its end-of-day review; the case keeps its waiting clock running
        route(m, waiting[up], target[up], np.full(int(up.sum()), m.t1), m.handling["hops_per_escalation"])
        m.today["passed_up"] = int(up.sum())
