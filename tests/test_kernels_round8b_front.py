"""Round 8b kernels of the front of the day (detection's latent rows, the returns' exits, the
Poisson buffers, the inlined ziggurat draws): each gives what the code it replaces gave, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import sim
from sim.engine import pcg
from sim.engine.cases import BURIED, CLOSED_STAGES, RETURNING_EXITS, Stage, stage_rows
from sim.engine.choice import LUMP
from sim.engine.detection import _LATENT_BYTES, _latent
from sim.engine.draws import poisson_cells, poisson_outer
from sim.engine.emergence import _RETURNING
from sim.engine.front_kernels import exit_rows
from sim.engine.levels import Level
from sim.engine.service import _rows_at


def _column(codes: np.ndarray, offset: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``codes`` as an int8 column starting ``offset`` bytes into an 8-byte aligned buffer, with the
    buffer as words and the offset (as ``CaseTable.words`` gives them)."""
    buf = np.zeros(offset + codes.size + 8, np.int8)
    col = buf[offset: offset + codes.size]
    col[:] = codes
    return col, buf[: buf.size // 8 * 8].view(np.uint64), offset


_CODES = [int(x) for x in (*Stage, BURIED)]


# ----------------------------------------------------------------- returns: the day's exits
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_CODES), max_size=300), st.integers(0, 15),
       st.sets(st.sampled_from([int(x) for x in CLOSED_STAGES]), min_size=1))
def test_exit_rows_is_stage_rows(codes: list[int], offset: int, want_codes: set[int]) -> None:
    col, words, base = _column(np.asarray(codes, dtype=np.int8), offset)
    want = np.zeros(256, np.bool_)
    want[list(want_codes)] = True
    got = exit_rows(col, words, base, want)
    assert got.dtype == np.int64
    assert np.array_equal(got, stage_rows(col, tuple(want_codes)))


def test_exit_rows_edges() -> None:
    pick = np.random.default_rng(8)
    for n in (0, 1, 7, 8, 9, 100_000):
        for closed_share in (0.0, 0.001, 0.5, 1.0):
            codes = pick.choice([0, 1, 2, 3, BURIED], n).astype(np.int8)
            hit = pick.random(n) < closed_share
            codes[hit] = pick.choice([int(x) for x in CLOSED_STAGES], int(hit.sum()))
            for offset in (0, 3, 8):
                col, words, base = _column(codes, offset)
                assert np.array_equal(exit_rows(col, words, base, _RETURNING), stage_rows(col, RETURNING_EXITS))


def test_returning_codes() -> None:
    assert np.array_equal(np.flatnonzero(_RETURNING), np.sort(np.asarray(RETURNING_EXITS, np.int64)))
    assert all(4 <= int(x) <= 127 for x in CLOSED_STAGES)  # exit_rows' word test takes those only


# ----------------------------------------------------------------- detection: the latent rows handed over
def _latent_args(m: sim.CityModel) -> tuple:
    s = m.state
    tab, lev, w, cats, r = s.cases, s.levers, s.world, s.categories, s.residents
    seen = lev.resource_integration + (1.0 - lev.resource_integration) / cats.n
    delay = float(w["report_delay_hours"])
    fade = w["self_resolution_per_day"] / 24.0 * w["lapse_severity_factor"] ** np.arange(4, dtype=np.float64)
    return (tab["stage"], tab["grid"], tab["category"], tab["resident_a"], tab["proactive_only"],
            tab["entry_channel"], tab["severity"], tab["t_emerge"], tab["detect_left"].copy(), tab["fade_left"].copy(),
            s.pools[Level.GRID].counts, cats.patrol_visible, m.detection.video_covered(s), r.propensity, r.trust,
            r.trust_shift, fade, float(s.clock.t0), float(s.clock.t1), LUMP, not m.detection.choice.enabled,
            float(w["patrol_visits_per_worker_day"]), float(w["patrol_detection_per_visit"]), float(seen),
            float(lev.screening_per_week / 7.0 * w["screening_detection"]), float(w["video_detection_per_day"]),
            float(lev.volunteer_participation * w["volunteer_detection_per_day"]), delay, np.float32(delay))


@pytest.mark.parametrize("over", [{}, {"choice.enabled": False}, {"world.report_delay_hours": 0.0}])
def test_latent_with_the_rows_is_latent_alone(over: dict) -> None:
    scn = sim.load_scenario("town", {"city.residents": 60_000, "world.emergence_multiplier": 5, **over})
    m = sim.CityModel(scn, rng=4).run(25)
    pick = np.random.default_rng(len(over))
    for _day in range(4):
        tab = m.cases
        for offset in (0, 5):  # the stage column at another alignment: words from its buffer
            args = list(_latent_args(m))
            col, words, base = _column(tab["stage"], offset)
            if _day == 3:  # no latent row at all
                col[col == Stage.LATENT] = Stage.QUEUED
            elif _day == 2:  # nearly every row latent
                col[pick.random(col.size) < 0.9] = Stage.LATENT
            args[0] = col
            left = (args[8].copy(), args[9].copy())
            want = _latent(*args)
            want_left = (args[8].copy(), args[9].copy())
            args[8], args[9] = left[0].copy(), left[1].copy()
            rows = _rows_at(col, words, base, _LATENT_BYTES, 0)
            got = _latent(*args, rows)
            assert len(got) == len(want)
            for x, y in zip(got, want, strict=True):
                assert np.array_equal(x, y)
            assert np.array_equal(args[8], want_left[0]) and np.array_equal(args[9], want_left[1])
        m.run(1)


# ----------------------------------------------------------------- the Poisson passes' buffer
@pytest.mark.parametrize("scale", [0.5, 1.5, 4.0, 9.9])
def test_poisson_passes_past_one_count_a_cell(scale: float) -> None:
    # more counts than cells: the first buffer (one slot a cell) overflows and the pass runs again
    pick = np.random.default_rng(int(scale * 10))
    for n_grids in (1, 7, 400):
        per_grid = pick.integers(10, 21, n_grids)
        weight = (0.5 + 0.5 * pick.random(n_grids)).astype(np.float32)
        per_cat = (0.5 + 0.5 * pick.random(5)) * scale / 14.0  # rates under scale, and under 10
        rate = (per_grid * weight)[:, None] * per_cat[None, :] * 0.7
        w = pick.integers(0, 2**63, 4, dtype=np.uint64)
        st0 = pcg.seeded(w)
        g = np.random.Generator(np.random.PCG64())
        pcg.to_generator(g, st0)
        counts = g.poisson(rate).ravel()
        want = np.repeat(np.arange(counts.size), counts)
        if scale > 4 and n_grids == 400:
            assert want.size > 64 + counts.size  # the first buffer was too small
        a, b = st0.copy(), st0.copy()
        assert np.array_equal(poisson_cells(a, rate), want)
        got = poisson_outer(b, per_grid, weight, per_cat, 0.7)
        assert got is not None and np.array_equal(got, want)
        assert np.array_equal(a, pcg.from_generator(g)) and np.array_equal(b, a)


# ----------------------------------------------------------------- the ziggurat draws inlined
@njit(cache=True)
def _mixed(st, n):  # pragma: no cover - compiled
    ex = np.empty(n)
    nor = np.empty(n)
    for i in range(n):
        ex[i] = pcg.standard_exponential(st)
    for i in range(n):
        nor[i] = pcg.standard_normal(st)
    return ex, nor


def test_inlined_ziggurat_draws_are_numpys() -> None:
    # enough draws for the ziggurats' rare branches (the tail, idx 0, and the wedges)
    for seed in range(3):
        w = np.random.default_rng(seed).integers(0, 2**63, 4, dtype=np.uint64)
        st0 = pcg.seeded(w)
        g = np.random.Generator(np.random.PCG64())
        pcg.to_generator(g, st0)
        st_ = st0.copy()
        ex, nor = _mixed(st_, 300_000)
        assert np.array_equal(ex, g.standard_exponential(300_000))
        assert np.array_equal(nor, g.standard_normal(300_000))
        assert np.array_equal(st_, pcg.from_generator(g))
