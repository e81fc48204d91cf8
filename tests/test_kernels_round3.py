"""Round 3 of issue 16: the compiled passes against the numpy formulations they replaced.

As in tests/test_engine_kernels.py, each kernel keeps its plain numpy formulation here as the
reference, and they agree bit for bit.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import sim
from sim.engine import service
from sim.engine.cases import CLOSED_STAGES, RETURNING_EXITS, Stage, stage_rows
from sim.engine.choice import LUMP
from sim.engine.detection import _latent
from sim.engine.levels import Level
from sim.engine.residents import _segment_sums


def model(days: int = 25, **over) -> sim.CityModel:
    scn = sim.load_scenario("town", {"city.residents": 20_000, "world.emergence_multiplier": 5, **over})
    return sim.CityModel(scn, rng=3).run(days)


def test_stage_rows_match_isin():
    stage = np.random.default_rng(0).integers(0, len(Stage), 5_000).astype(np.int8)
    for stages in (CLOSED_STAGES, RETURNING_EXITS, (Stage.LATENT,), ()):
        np.testing.assert_array_equal(stage_rows(stage, stages), np.flatnonzero(np.isin(stage, stages)))


def test_segment_sums_match_reduceat():
    rng = np.random.default_rng(1)
    for lo, hi in ((1, 12), (100, 300), (9_000, 20_000)):  # plain, blocked and halved pairwise sums
        start = np.concatenate([[0], np.cumsum(rng.integers(lo, hi, 200))])
        rec = np.zeros((int(start[-1]), 4), np.float32)  # a strided column, as the resident records
        rec[:, 0] = rng.random(rec.shape[0]) * 10.0 ** rng.uniform(-12, 0, rec.shape[0])
        ref = np.add.reduceat(rec[:, 0], start[:-1], dtype=np.float64)
        assert _segment_sums(rec[:, 0], start).tobytes() == ref.tobytes()


def test_trust_of_matches_clip():
    m = model(days=2)
    r = m.residents
    r.trust[:4] = [0.0, -0.0, 1.0, np.nan]
    r.trust_shift[:3] = [-0.0, 0.7, -0.9]
    idx = np.concatenate([np.arange(4), np.random.default_rng(2).integers(0, len(r), 3_000)])
    g = r.grid_of(idx)
    g[:8] = [0, 0, 1, 2, 1, 2, 0, 1]
    ref = np.clip(r.trust[idx] + r.trust_shift[g], 0.0, 1.0)
    assert r.trust_of(idx, g).tobytes() == ref.tobytes()  # -0.0 and NaN as numpy's clip


def _latent_numpy(m: sim.CityModel) -> tuple[np.ndarray, ...]:
    """Detection's day as the vectorised numpy code before round 3 computed it."""
    s = m.state
    tab, t0, t1, lev, w = s.cases, s.clock.t0, s.clock.t1, s.levers, s.world
    idx = np.flatnonzero(tab["stage"] == Stage.LATENT)
    g, c = tab["grid"][idx], tab["category"][idx]
    visible = s.categories.patrol_visible[c]
    seen = lev.resource_integration + (1.0 - lev.resource_integration) / s.categories.n
    workers = s.pools[Level.GRID].counts[g]
    h = np.empty((idx.size, 5))
    h[:, 0] = workers * w["patrol_visits_per_worker_day"] * w["patrol_detection_per_visit"] * visible * seen / 24
    h[:, 1] = lev.screening_per_week / 7.0 * w["screening_detection"] * (workers > 0) / 24
    h[:, 2] = m.detection.video_covered(s)[g] * w["video_detection_per_day"] * visible / 24
    h[:, 3] = lev.volunteer_participation * w["volunteer_detection_per_day"] * visible / 24
    res = tab["resident_a"][idx]
    lumped = tab["entry_channel"][idx] == LUMP
    reporting = s.residents.propensity[res] * ~tab["proactive_only"][idx] * ~lumped
    if not m.choice.enabled:
        reporting = reporting * np.clip(s.residents.trust[res] + s.residents.trust_shift[g], 0.0, 1.0)
    delay = w["report_delay_hours"]
    instant = (delay == 0) & (reporting > 0)
    h[:, 4] = 0.0 if delay == 0 else reporting / delay
    h_det = h.sum(axis=1)
    h_fade = w["self_resolution_per_day"] / 24.0 * w["lapse_severity_factor"] ** tab["severity"][idx].astype(np.float64)
    t_from = np.maximum(tab["t_emerge"][idx], t0)
    span = t1 - t_from
    left = tab["detect_left"][idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        t_det = np.where(instant, t_from, np.where(h_det > 0, t_from + left / h_det, np.inf))
        t_fade = np.where(h_fade > 0, t_from + tab["fade_left"][idx] / h_fade, np.inf)
    detected = (t_det < t1) & (t_det <= t_fade)
    faded = (t_fade < t1) & ~detected
    quiet = ~(detected | faded)
    detect_left, fade_left = tab["detect_left"].copy(), tab["fade_left"].copy()
    detect_left[idx[quiet]] = left[quiet] - h_det[quiet] * span[quiet]
    fade_left[idx[quiet]] = fade_left[idx[quiet]] - h_fade[quiet] * span[quiet]
    return (idx[detected], h[detected], t_det[detected], t_from[detected], h_fade[detected], instant[detected],
            idx[faded], t_fade[faded], lumped[faded], detect_left, fade_left)


@pytest.mark.parametrize("over", [{}, {"choice.enabled": False}, {"world.report_delay_hours": 0},
                                  {"world.self_resolution_per_day": 0.9}])
def test_detection_pass_matches_numpy(over):
    m = model(**over)
    m.state.clock.start_day()
    for stage in m.plan[:3]:  # today's emergence and collective action: fresh latent cases
        stage.run(m.state)
    s = m.state
    ref = _latent_numpy(m)
    tab, w, lev, r = s.cases, s.world, s.levers, s.residents
    seen = lev.resource_integration + (1.0 - lev.resource_integration) / s.categories.n
    fade = w["self_resolution_per_day"] / 24.0 * w["lapse_severity_factor"] ** np.arange(4, dtype=np.float64)
    detect_left, fade_left = tab["detect_left"].copy(), tab["fade_left"].copy()
    out = _latent(tab["stage"], tab["grid"], tab["category"], tab["resident_a"], tab["proactive_only"],
                  tab["entry_channel"], tab["severity"], tab["t_emerge"], detect_left, fade_left,
                  s.pools[Level.GRID].counts, s.categories.patrol_visible, m.detection.video_covered(s),
                  r.propensity, r.trust, r.trust_shift, fade, float(s.clock.t0), float(s.clock.t1), LUMP,
                  not m.choice.enabled, float(w["patrol_visits_per_worker_day"]),
                  float(w["patrol_detection_per_visit"]), float(seen),
                  float(lev.screening_per_week / 7.0 * w["screening_detection"]),
                  float(w["video_detection_per_day"]), float(lev.volunteer_participation * w["volunteer_detection_per_day"]),
                  float(w["report_delay_hours"]), np.float32(w["report_delay_hours"]))
    assert out[0] == int(np.count_nonzero(tab["stage"] == Stage.LATENT)) > 0
    assert out[1].size + out[7].size > 0  # some detected or faded today
    if over.get("world.self_resolution_per_day"):
        assert out[7].size > 0
    for got, want in zip([*out[1:], detect_left, fade_left], ref, strict=True):
        assert got.tobytes() == np.asarray(want).tobytes()


def test_fcfs_heads_give_the_same_day_as_every_row(monkeypatch):
    """Keeping one head per pool queue forces the fallback (serve again from every waiting row)
    nearly every day; 32 rarely: both runs are the run of the full queues."""
    runs = []
    for heads in (1, 32):
        monkeypatch.setattr(service, "_HEADS", heads)
        m = model(days=30)
        runs.append((m.timeseries().to_csv(), {k: copy.deepcopy(v) for k, v in m.kpis().items() if k != "provenance"}))
    assert runs[0] == runs[1]
