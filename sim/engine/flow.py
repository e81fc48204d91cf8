"""Stages that bring cases in: emergence, detection, reporting, triage and routing.

Every per-case random quantity is drawn once, when the case emerges, from the stream of the
mechanism that uses it (detection clocks, escalation thresholds, work, outcomes, routing). Under a
policy change the same case gets the same draws, so differences between runs come from the policy,
not from reshuffled luck (common random numbers). Clocks that run under time-varying hazards are
unit-exponential budgets spent at the day's hazard, which is exact for piecewise-constant rates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..config.params import N_LEVELS
from .cases import Stage

if TYPE_CHECKING:
    from ..model import CityModel

CHANNELS = ("patrol", "screening", "video", "volunteer", "hotline")
PROACTIVE_CHANNELS = (0, 1, 2)  # found by government staff or cameras, not reported by residents
HOTLINE = 4  # resident reports; every other channel dispatches the grid worker first
COLLECTIVE_MIN_INVOLVED = 10


def emergence(m: CityModel) -> None:
    """New cases: a Poisson count per grid and category, then residents picked within the grid."""
    day, t0 = m.day, m.t0
    rng = m.streams.get("emergence", day)
    rate = m.daily_rates()  # [grids, categories], expected new cases today
    counts = rng.poisson(rate)
    flat = np.repeat(np.arange(counts.size), counts.ravel())
    n = flat.size
    m.today["new_cases"] = n
    if n == 0:
        return
    n_cat = rate.shape[1]
    grid, cat = flat // n_cat, flat % n_cat
    t = t0 + 24.0 * rng.random(n)
    order = np.argsort(t, kind="stable")
    grid, cat, t = grid[order], cat[order], t[order]
    u = rng.random((n, 4))

    cats = m.categories
    start, size = m.layout.resident_start[grid], m.layout.residents_per_grid[grid]
    res_a = start + (u[:, 0] * size).astype(np.int64)
    res_b = start + (u[:, 1] * size).astype(np.int64)
    collective_share = np.minimum(cats.collective[cat] + m.shock_collective_boost(grid, cat), 1.0)
    is_pair = u[:, 2] < cats.pair[cat]
    is_collective = u[:, 2] >= 1.0 - collective_share
    n_involved = np.where(is_pair, 2, 1)
    many = COLLECTIVE_MIN_INVOLVED + rng.geometric(0.05, n) - 1
    n_involved = np.where(is_collective, many, n_involved)
    severity = (u[:, 3:4] >= cats.severity_cum[cat][:, :3]).sum(axis=1).astype(np.int8)
    severity = np.where(is_collective, np.maximum(severity, 1), severity)

    tab = m.cases
    sl = tab.append(n)
    tab["category"][sl] = cat
    tab["grid"][sl] = grid
    tab["resident_a"][sl] = res_a
    tab["resident_b"][sl] = np.where(n_involved >= 2, res_b, -1)
    tab["n_involved"][sl] = n_involved
    tab["severity0"][sl] = severity
    tab["severity"][sl] = severity
    tab["stage"][sl] = Stage.LATENT
    tab["t_emerge"][sl] = t
    tab["acc_from"][sl] = t
    tab["proactive_only"][sl] = rng.random(n) < cats.proactive_only[cat]

    det = m.streams.get("detection", day)
    tab["detect_left"][sl] = det.exponential(1.0, n)
    tab["fade_left"][sl] = det.exponential(1.0, n)
    tab["channel_u"][sl] = det.random(n)
    tab["esc_thresholds"][sl] = np.cumsum(m.streams.get("escalation", day).exponential(1.0, (n, 3)), axis=1)
    tab["service_u"][sl] = m.streams.get("service", day).exponential(1.0, (n, N_LEVELS))
    tab["outcome_u"][sl] = m.streams.get("outcome", day).random((n, N_LEVELS))
    tab["route_u"][sl] = m.streams.get("routing", day).random((n, N_LEVELS))

    tension = m.world["tension_per_case"]
    m.residents.add_tension(res_a, tension, t0)
    m.residents.add_tension(res_b[n_involved >= 2], tension, t0)


def detection(m: CityModel) -> None:
    """Latent cases are found by competing channels, or fade away undetected."""
    tab, t1 = m.cases, m.t1
    idx = np.flatnonzero(tab["stage"] == Stage.LATENT)
    m.today["detected"] = 0
    if idx.size == 0:
        return
    lev, w = m.levers, m.world
    g = tab["grid"][idx]
    c = tab["category"][idx]
    visible = m.categories.patrol_visible[c]
    # 全科网格: an all-purpose grid worker sees every category; a siloed one only its own network's.
    seen = lev.resource_integration + (1.0 - lev.resource_integration) / m.categories.n
    workers = m.pools[0].counts[g]
    h = np.empty((idx.size, len(CHANNELS)))
    h[:, 0] = workers * w["patrol_visits_per_worker_day"] * w["patrol_detection_per_visit"] * visible * seen / 24
    h[:, 1] = lev.screening_per_week / 7.0 * w["screening_detection"] * (workers > 0) / 24
    h[:, 2] = m.video_covered[g] * w["video_detection_per_day"] * visible / 24
    h[:, 3] = lev.volunteer_participation * w["volunteer_detection_per_day"] * visible / 24
    res = tab["resident_a"][idx]
    reporting = m.residents.propensity[res] * m.residents.trust_of(res, g) * ~tab["proactive_only"][idx]
    delay = w["report_delay_hours"]
    instant = (delay == 0) & (reporting > 0)
    h[:, 4] = 0.0 if delay == 0 else reporting / delay
    h_det = h.sum(axis=1)
    h_fade = w["self_resolution_per_day"] / 24.0

    t_from = np.maximum(tab["t_emerge"][idx], m.t0)
    span = t1 - t_from
    left = tab["detect_left"][idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_det = np.where(instant, t_from, np.where(h_det > 0, t_from + left / h_det, np.inf))
        t_fade = t_from + tab["fade_left"][idx] / h_fade if h_fade > 0 else np.full(idx.size, np.inf)
    detected = (t_det < t1) & (t_det <= t_fade)
    faded = (t_fade < t1) & ~detected
    quiet = ~(detected | faded)
    tab["detect_left"][idx[quiet]] = left[quiet] - h_det[quiet] * span[quiet]
    tab["fade_left"][idx[quiet]] = tab["fade_left"][idx[quiet]] - h_fade * span[quiet]

    di = idx[detected]
    hd = h[detected]
    hd[instant[detected], :4] = 0.0
    hd[instant[detected], 4] = 1.0
    share = np.cumsum(hd, axis=1) / hd.sum(axis=1, keepdims=True)
    channel = (tab["channel_u"][di][:, None] >= share[:, :-1]).sum(axis=1)
    tab["t_detect"][di] = t_det[detected]
    tab["channel"][di] = channel
    tab["stage"][di] = Stage.REPORTING
    fi = idx[faded]
    tab["t_close"][fi] = t_fade[faded]
    tab["stage"][fi] = Stage.FADED
    m.today["detected"] = int(di.size)
    report_and_triage(m, di)


def entry_level(m: CityModel, severity: np.ndarray) -> np.ndarray:
    """Level where a reported case of each severity enters (scenario's triage table)."""
    return m.entry_by_severity[severity]


def report_and_triage(m: CityModel, idx: np.ndarray) -> None:
    """Detected cases: minor ones found on patrol are fixed on the spot; the rest are reported to
    the platform (latency per hop, silo penalty) and routed by severity."""
    if idx.size == 0:
        return
    tab = m.cases
    sev = tab["severity"][idx]
    spot = ((tab["channel"][idx] != HOTLINE) & (sev == 0)
            & (tab["route_u"][idx, 0] < m.handling["on_the_spot_share"])
            & (m.pools[0].counts[tab["grid"][idx]] > 0))
    si = idx[spot]
    tab["level"][si] = 0
    tab["entry_level"][si] = 0
    tab["pool"][si] = tab["grid"][si]
    tab["t_arrive"][si] = tab["t_detect"][si]
    rest = idx[~spot]
    level = entry_level(m, tab["severity"][rest])
    route(m, rest, level, tab["t_detect"][rest], m.handling["hops_to_platform"])
    tab["entry_level"][rest] = tab["level"][rest]


def route(m: CityModel, idx: np.ndarray, level: np.ndarray, t_ready: np.ndarray, hops: int) -> None:
    """Send cases ``idx`` to ``level`` (or the first staffed level above it), arriving after the
    information latency and any bounces between departments (misrouting when responsibility is
    unclear; 责任对口 and shared data reduce it)."""
    if idx.size == 0:
        return
    tab, lev = m.cases, m.levers
    # skip levels whose pool has nobody (e.g. no mediators): the first staffed level up
    level, pool = m.first_staffed(level, idx)
    delay = hops * lev.latency_hours_per_hop + lev.silo_penalty_hours * (1.0 - lev.resource_integration)
    p_mis = m.handling["misroute_base"] * (1.0 - lev.responsibility_clarity) * (1.0 - lev.resource_integration)
    bounces = np.zeros(idx.size, dtype=np.int64)
    if p_mis > 0:
        u = np.maximum(tab["route_u"][idx, level], 1e-12)
        dept = (level == 3) | (level == 4)
        # P(k bounces) = p^k (1 - p): a geometric number of wrong departments before the right one
        bounces = np.where(dept, np.floor(np.log(u) / np.log(p_mis)), 0).astype(np.int64)
    t_arrive = t_ready + delay + bounces * (m.handling["bounce_hours"] + lev.latency_hours_per_hop)
    tab["level"][idx] = level
    tab["pool"][idx] = pool
    tab["t_arrive"][idx] = t_arrive
    tab["t_start"][idx] = np.inf
    tab["t_end"][idx] = np.inf
    tab["bounces"][idx] += bounces
    tab["stage"][idx] = Stage.REPORTING
    # nowhere left to go (no court staff): the case closes unresolved rather than wait forever
    stuck = m.pool_counts(level, pool) == 0
    if stuck.any():
        tab["stage"][idx[stuck]] = Stage.FAILED
        tab["t_close"][idx[stuck]] = t_ready[stuck]
