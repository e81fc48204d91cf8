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
from numba import njit

from .cases import N_DETECTION_CLOCKS, Stage
from .choice import LUMP, ChoiceModel
from .intrinsics import prefetch, repeat_byte
from .levels import Level
from .routing import Router
from .service import _rows_at
from .state import CityState
from .streams import Stream

_LATENT_BYTES = repeat_byte(int(Stage.LATENT))  # the stage code in every byte of a word (_rows_at)
_AHEAD = 16  # prefetch distance in latent rows: the resident record of the latent case that far ahead


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
        s.today["detected"] = 0
        lev, w, cats = s.levers, s.world, s.categories
        # 全科网格: an all-purpose grid worker sees every category; a siloed one only its own network's.
        seen = lev.resource_integration + (1.0 - lev.resource_integration) / cats.n
        delay = float(w["report_delay_hours"])
        # undetected grievances fade, serious ones less often (the lapse severity factor): the
        # rate per severity, by numpy's formula (a table, not a power per case)
        fade = w["self_resolution_per_day"] / 24.0 * w["lapse_severity_factor"] ** np.arange(4, dtype=np.float64)
        r = s.residents
        enabled = self.choice.enabled
        # The latent rows, found eight rows at a time where none is (at 5x most rows are queued:
        # one row in fifty is latent at day 200). One compiled pass over them finds their
        # clocks' hazards and what happens to them today; it spends the quiet ones' budgets in
        # place and returns only the detected and faded rows (numpy's arithmetic, dtypes and
        # order: see _latent).
        words, base = tab.words("stage")
        rows = _rows_at(tab["stage"], words, base, _LATENT_BYTES, int(Stage.LATENT))
        n_latent, di, h_d, t_det, t_from, fade_d, instant, fi, t_fade, lumped_f = _latent(
            tab["stage"], tab["grid"], tab["category"], tab["resident_a"], tab["proactive_only"],
            tab["entry_channel"], tab["severity"], tab["t_emerge"], tab["detect_left"], tab["fade_left"],
            s.pools[Level.GRID].counts, cats.patrol_visible, self.video_covered(s), r.propensity, r.trust,
            r.trust_shift, fade, float(t0), float(t1), LUMP, not enabled,
            float(w["patrol_visits_per_worker_day"]), float(w["patrol_detection_per_visit"]), float(seen),
            float(lev.screening_per_week / 7.0 * w["screening_detection"]), float(w["video_detection_per_day"]),
            float(lev.volunteer_participation * w["volunteer_detection_per_day"]), delay, np.float32(delay), rows)
        if n_latent == 0:
            return
        # what they come to, written in one compiled pass (some twenty numpy calls before)
        ai, t_act, di = _settle(di, h_d, t_det, t_from, fade_d, instant, fi, t_fade, lumped_f, tab["channel_u"],
                                tab["t_close"], tab["stage"], tab["fade_left"], tab["t_detect"], tab["channel"],
                                enabled, N_DETECTION_CLOCKS - 1, int(Stage.LUMPED), int(Stage.FADED),
                                int(Stage.REPORTING))
        # the rows whose residents' own clock rang first choose (their rows' moves touch no
        # other row: acting after the others' writes gives what acting before them gave)
        reached = self.choice.act(s, ai, t_act) if ai.size else ai
        s.today["detected"] = int(di.size + reached.size)
        self.router.triage(s, di)


@njit(cache=True)
def _latent(stage, grid, category, resident, proactive_only, entry_channel, severity, t_emerge, detect_left,
            fade_left, workers, visible, covered, propensity, trust, trust_shift, fade, t0, t1, lump,
            trust_scales, patrol_visits, patrol_detection, seen, screening, video, volunteer, delay,
            delay32, rows=None):  # pragma: no cover - compiled
    """Detection's day for every latent case (stage 0), with the arithmetic the vectorised numpy
    code did, in its dtypes and order: the five clocks' hazards (patrol, screening, video,
    volunteers, the residents' own clock: float32 propensity times 0 or 1, divided by the delay
    in float32 — or, with channel choice off, times their effective trust in float64), their
    sum left to right (numpy's row sum of five), the fading rate of the case's severity; when the
    clocks ring today. Quiet cases spend their budgets in place. Returns the number of latent
    cases; the detected rows with their hazards, detection time, start of today's exposure,
    fading rate and whether their report was instant; the faded rows, their fading time and
    whether their residents had lumped it. The latent rows are ``rows`` (ascending), or found
    here when not given."""
    n = stage.shape[0]
    if rows is None:  # a branch numba prunes: compiled apart with and without the rows
        m = 0
        for i in range(n):
            if stage[i] == 0:
                m += 1
        lat = np.empty(m, np.int64)
        k = 0
        for i in range(n):
            if stage[i] == 0:
                lat[k] = i
                k += 1
    else:
        lat = rows
        m = rows.shape[0]
    di = np.empty(m, np.int64)
    h_d = np.empty((m, 5))
    t_det_d = np.empty(m)
    t_from_d = np.empty(m)
    fade_d = np.empty(m)
    instant_d = np.empty(m, np.bool_)
    fi = np.empty(m, np.int64)
    t_fade_f = np.empty(m)
    lumped_f = np.empty(m, np.bool_)
    nd = 0
    nf = 0
    zero32 = np.float32(0.0)
    h = np.empty(5)
    for j in range(m):  # the latent rows listed first: the prefetch can then look _AHEAD of them
        i = lat[j]
        if j + _AHEAD < m:  # a random resident record per latent case
            prefetch(propensity, resident[lat[j + _AHEAD]])
        g = grid[i]
        vis = visible[category[i]]
        w = workers[g]
        h[0] = np.float64(w) * patrol_visits * patrol_detection * vis * seen / 24.0
        h[1] = screening * (1.0 if w > 0 else 0.0) / 24.0
        h[2] = (video if covered[g] else 0.0) * vis / 24.0
        h[3] = volunteer * vis / 24.0
        lumped = entry_channel[i] == lump
        rep32 = zero32 if (proactive_only[i] or lumped) else propensity[resident[i]]
        if trust_scales:  # channel choice off: reports at a rate ∝ propensity × trust (float64)
            tr = np.float64(trust[resident[i]]) + trust_shift[g]
            tr = min(max(tr, 0.0), 1.0)
            rep = np.float64(rep32) * tr
            h[4] = 0.0 if delay == 0 else rep / delay
            instant = delay == 0 and rep > 0
        else:
            h[4] = 0.0 if delay == 0 else np.float64(rep32 / delay32)
            instant = delay == 0 and rep32 > 0
        h_det = (((h[0] + h[1]) + h[2]) + h[3]) + h[4]
        h_fade = fade[severity[i]]
        te = t_emerge[i]
        t_from = te if te > t0 else t0
        left = detect_left[i]
        if instant:
            t_det = t_from
        elif h_det > 0:
            t_det = t_from + left / h_det
        else:
            t_det = np.inf
        t_fade = t_from + fade_left[i] / h_fade if h_fade > 0 else np.inf
        if t_det < t1 and t_det <= t_fade:
            di[nd] = i
            for c in range(5):
                h_d[nd, c] = h[c]
            t_det_d[nd] = t_det
            t_from_d[nd] = t_from
            fade_d[nd] = h_fade
            instant_d[nd] = instant
            nd += 1
        elif t_fade < t1:
            fi[nf] = i
            t_fade_f[nf] = t_fade
            lumped_f[nf] = lumped
            nf += 1
        else:
            span = t1 - t_from
            detect_left[i] = left - h_det * span
            fade_left[i] = fade_left[i] - h_fade * span
    return (m, di[:nd].copy(), h_d[:nd].copy(), t_det_d[:nd].copy(), t_from_d[:nd].copy(), fade_d[:nd].copy(),
            instant_d[:nd].copy(), fi[:nf].copy(), t_fade_f[:nf].copy(), lumped_f[:nf].copy())


@njit(cache=True)
def _channel_pick(h_d, instant, channel_u, di):  # pragma: no cover - compiled
    """The channel that found each detected row: numpy's inverse CDF of the uniform
    ``channel_u[di]`` over the shares ``cumsum(h) / h.sum()`` of the five hazards (left to right,
    numpy's row sum of five); an instant report has hazards (0, 0, 0, 0, 1): the fifth clock."""
    n = di.shape[0]
    out = np.empty(n, np.int64)
    for j in range(n):
        if instant[j]:  # every share is 0: the uniform passes all four
            out[j] = 4
            continue
        total = (((h_d[j, 0] + h_d[j, 1]) + h_d[j, 2]) + h_d[j, 3]) + h_d[j, 4]
        u = np.float64(channel_u[di[j]])
        ch = 0
        cum = 0.0
        for c in range(4):
            cum += h_d[j, c]
            if u >= cum / total:
                ch += 1
        out[j] = ch
    return out


@njit(cache=True)
def _settle(di, h_d, t_det, t_from, fade_d, instant, fi, t_fade, lumped_f, channel_u, t_close, stage, fade_left,
            t_detect, channel, choosing, own, lumped, faded, reporting):  # pragma: no cover - compiled
    """The day's outcomes of :func:`_latent` written, as the numpy code wrote them: faded rows
    closed (``lumped`` if their residents had lumped it); each detected row's channel
    (:func:`_channel_pick`); where that is the residents' own clock (``own``) and they choose
    (``choosing``), their fading clock runs until they act, and the row is returned with the
    time; the others are reported. Returns the rows that act, when, and the reported rows."""
    ch = _channel_pick(h_d, instant, channel_u, di)
    for k in range(fi.shape[0]):
        t_close[fi[k]] = t_fade[k]
        stage[fi[k]] = lumped if lumped_f[k] else faded
    n = di.shape[0]
    ai = np.empty(n, np.int64)
    t_act = np.empty(n)
    rest = np.empty(n, np.int64)
    na = 0
    nr = 0
    for j in range(n):
        r = di[j]
        if choosing and ch[j] == own:
            fade_left[r] = fade_left[r] - fade_d[j] * (t_det[j] - t_from[j])
            ai[na] = r
            t_act[na] = t_det[j]
            na += 1
        else:
            t_detect[r] = t_det[j]
            channel[r] = ch[j]
            stage[r] = reporting
            rest[nr] = r
            nr += 1
    return ai[:na], t_act[:na], rest[:nr]
