"""Detection: latent cases are found by competing channels, or fade away undetected.

Channels run as competing hazards on each latent case: grid-worker patrol (∝ workers × the
category's visibility × what a worker sees — every category in an all-purpose grid, 全科网格,
only its own network's in a siloed one), proactive screening (排查), video (雪亮工程), volunteers
(群防群治) and the residents' own clock (∝ reporting propensity). When the residents' clock rings
they choose what to do with the grievance (:mod:`sim.engine.choice`; with ``choice.enabled``
false they report to the 12345 hotline at a rate ∝ propensity × trust). A fading clock competes
with them; a case its residents chose to lump that fades exits LUMPED. Each clock is a unit-exponential budget drawn at emergence and spent at the
day's hazard, exact for piecewise-constant rates. A found case goes to the router's triage.
"""

from __future__ import annotations

import numpy as np

from .cases import N_DETECTION_CLOCKS, Stage
from .choice import LUMP, ChoiceModel
from .levels import Level
from .routing import Router
from .state import CityState
from .streams import Stream


class Detection:
    """Stage ``detection``. Reads latent cases, levers, world, grid-worker pools, residents'
    propensity and trust; writes detection time, channel and stage (detected or faded), then
    triages what was found. Keeps the fixed order in which grids get cameras."""

    def __init__(self, s: CityState, router: Router, choice: ChoiceModel) -> None:
        self.router = router
        self.choice = choice
        # a fixed ranking of grids, so raising video coverage adds cameras and moves none
        self._video_u = s.streams.get(Stream.VIDEO).random(s.layout.n_grids)

    def video_covered(self, s: CityState) -> np.ndarray:
        """Which grids the video network covers at the current coverage lever."""
        return self._video_u < s.levers.video_coverage

    def __call__(self, s: CityState) -> None:
        tab, t0, t1 = s.cases, s.clock.t0, s.clock.t1
        idx = np.flatnonzero(tab["stage"] == Stage.LATENT)
        s.today["detected"] = 0
        if idx.size == 0:
            return
        lev, w = s.levers, s.world
        g = tab["grid"][idx]
        c = tab["category"][idx]
        visible = s.categories.patrol_visible[c]
        # 全科网格: an all-purpose grid worker sees every category; a siloed one only its own network's.
        seen = lev.resource_integration + (1.0 - lev.resource_integration) / s.categories.n
        workers = s.pools[Level.GRID].counts[g]
        h = np.empty((idx.size, N_DETECTION_CLOCKS))
        h[:, 0] = workers * w["patrol_visits_per_worker_day"] * w["patrol_detection_per_visit"] * visible * seen / 24
        h[:, 1] = lev.screening_per_week / 7.0 * w["screening_detection"] * (workers > 0) / 24
        h[:, 2] = self.video_covered(s)[g] * w["video_detection_per_day"] * visible / 24
        h[:, 3] = lev.volunteer_participation * w["volunteer_detection_per_day"] * visible / 24
        res = tab["resident_a"][idx]
        lumped = tab["entry_channel"][idx] == LUMP  # the residents already chose to keep quiet
        reporting = s.residents.propensity[res] * ~tab["proactive_only"][idx] * ~lumped
        if not self.choice.enabled:
            reporting = reporting * s.residents.trust_of(res, g)
        delay = w["report_delay_hours"]
        instant = (delay == 0) & (reporting > 0)
        h[:, 4] = 0.0 if delay == 0 else reporting / delay
        h_det = h.sum(axis=1)
        # undetected grievances fade, serious ones less often (the lapse severity factor)
        h_fade = w["self_resolution_per_day"] / 24.0 * w["lapse_severity_factor"] ** tab["severity"][idx].astype(
            np.float64)

        t_from = np.maximum(tab["t_emerge"][idx], t0)
        span = t1 - t_from
        left = tab["detect_left"][idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_det = np.where(instant, t_from, np.where(h_det > 0, t_from + left / h_det, np.inf))
            t_fade = np.where(h_fade > 0, t_from + tab["fade_left"][idx] / h_fade, np.inf)
        detected = (t_det < t1) & (t_det <= t_fade)
        faded = (t_fade < t1) & ~detected
        quiet = ~(detected | faded)
        tab["detect_left"][idx[quiet]] = left[quiet] - h_det[quiet] * span[quiet]
        tab["fade_left"][idx[quiet]] = tab["fade_left"][idx[quiet]] - h_fade[quiet] * span[quiet]

        di = idx[detected]
        hd = h[detected]
        hd[instant[detected], :4] = 0.0
        hd[instant[detected], 4] = 1.0
        share = np.cumsum(hd, axis=1) / hd.sum(axis=1, keepdims=True)
        channel = (tab["channel_u"][di][:, None] >= share[:, :-1]).sum(axis=1)
        fi = idx[faded]
        tab["t_close"][fi] = t_fade[faded]
        tab["stage"][fi] = np.where(lumped[faded], Stage.LUMPED, Stage.FADED)
        acted = channel == N_DETECTION_CLOCKS - 1  # the residents' own clock rang first
        if self.choice.enabled and acted.any():
            ai = di[acted]
            # the fading clock has run until they acted; the rest of today is spent from tomorrow
            tab["fade_left"][ai] -= h_fade[detected][acted] * (t_det[detected][acted] - t_from[detected][acted])
            reached = self.choice.act(s, ai, t_det[detected][acted])
            di, channel, t_found = di[~acted], channel[~acted], t_det[detected][~acted]
        else:
            reached, t_found = di[:0], t_det[detected]
        tab["t_detect"][di] = t_found
        tab["channel"][di] = channel
        tab["stage"][di] = Stage.REPORTING
        s.today["detected"] = int(di.size + reached.size)
        self.router.triage(s, di)
