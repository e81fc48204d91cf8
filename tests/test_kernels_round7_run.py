"""Round 7 (the run at 1x): the faster formulations against the numpy ones they replaced, bit for
bit, on small random inputs."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.cases import RECORD_COLUMNS, CaseTable
from sim.engine.emergence import _CLOCK_STREAMS, _outer
from sim.engine.routing import per_row
from sim.engine.streams import Stream, Streams, load_kernel, root_sequence
from sim.outcomes.accumulate import EDGES, KpiAccumulator, km_quantiles


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**40), st.sampled_from([(), (1,), (2,), (3,), (0, 7)]))
def test_states_are_each_streams_state(day, seed, qualifiers):
    load_kernel()
    streams = Streams(root_sequence(seed))
    got = streams.states(_CLOCK_STREAMS, day, *qualifiers)
    want = np.stack([streams.state(stream, day, *qualifiers) for stream in _CLOCK_STREAMS])
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 50), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_outer_is_the_broadcast_product(n_grids, n_cat, seed):
    rng = np.random.default_rng(seed)
    per_grid = rng.integers(0, 5000, n_grids) * rng.lognormal(0.0, 0.5, n_grids)  # int64 x float64
    per_cat = rng.random(n_cat) * 10.0 ** rng.integers(-8, 2, n_cat)
    want = per_grid[:, None] * per_cat[None, :]
    assert _outer(per_grid, per_cat).tobytes() == want.tobytes()
    out = np.full((n_grids, n_cat), np.nan)
    assert _outer(per_grid, per_cat, out) is out and out.tobytes() == want.tobytes()


def _km_quantile_before(events, censored, n_total, q, horizon):
    """The one-quantile formulation ``km_quantiles`` replaced."""
    if n_total == 0:
        return float("nan")
    removed_before = np.concatenate([[0], np.cumsum(events + censored)[:-1]])
    at_risk = n_total - removed_before
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / np.maximum(at_risk, 1), 0.0)
    surv = np.cumprod(1.0 - hazard)
    k = int(np.searchsorted(-surv, -(1.0 - q), side="left"))
    if k >= surv.size:
        return float(horizon)
    s_before = surv[k - 1] if k > 0 else 1.0
    drop = s_before - surv[k]
    frac = (s_before - (1.0 - q)) / drop if drop > 0 else 1.0
    lo, hi = EDGES[k], EDGES[k + 1]
    return float(lo * (hi / lo) ** frac)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.0, 1.0), st.sampled_from([0.0, 0.5, 0.9]))
def test_km_quantiles_match_one_at_a_time(seed, density, extra):
    rng = np.random.default_rng(seed)
    shape = EDGES.size - 1
    events = (rng.random(shape) < density * 0.01) * rng.integers(1, 50, shape)
    censored = (rng.random(shape) < density * 0.01) * rng.integers(1, 20, shape)
    n_total = int(events.sum() + censored.sum() + extra * 1000)
    qs = (0.5, 0.9, 0.1)
    got = km_quantiles(events, censored, n_total, qs, 1234.5)
    want = [_km_quantile_before(events, censored, n_total, q, 1234.5) for q in qs]
    assert np.array(got).tobytes() == np.array(want).tobytes()


def _per_row_before(x, shape, dtype):
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dtype), shape))


def test_per_row_is_the_broadcast():
    # values, dtype, and the flags numba types by (read-only, contiguous): the kernels' signatures
    for x, shape, dtype in [(np.arange(5), (5,), np.int64), (3, (5,), np.int64), (np.int64(3), (1,), np.int64),
                            (np.arange(5, dtype=np.int32), (5,), np.int64), (np.arange(5.0), (5,), np.float64),
                            (2.5, (4,), np.float64), (np.arange(10)[::2], (5,), np.int64),
                            (np.arange(1), (1,), np.int64), (np.arange(0), (0,), np.int64),
                            (np.arange(4.0, dtype=np.float32), (4,), np.float64)]:
        got, want = per_row(x, shape, dtype), _per_row_before(x, shape, dtype)
        assert got.dtype == want.dtype and got.shape == want.shape and got.tobytes() == want.tobytes()
        assert got.flags.writeable == want.flags.writeable and got.flags.c_contiguous == want.flags.c_contiguous


def test_take_of_some_columns_is_that_part_of_the_record():
    tab = CaseTable(64)
    tab.append(40)
    rng = np.random.default_rng(0)
    for name in RECORD_COLUMNS:
        col = tab[name]
        col[...] = rng.integers(0, 100, col.shape).astype(col.dtype)
    rows = np.array([0, 3, 4, 17, 39])
    full = tab.take(rows)
    part = tab.take(rows, KpiAccumulator.READS)
    assert list(part) == list(KpiAccumulator.READS)
    for name in KpiAccumulator.READS:
        assert part[name].tobytes() == full[name].tobytes()


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**40), st.sampled_from([(), (1,), (0, 7)]))
def test_reseed_gives_a_fresh_streams_numbers(day, seed, qualifiers):
    load_kernel()
    streams = Streams(root_sequence(seed))
    gen = np.random.Generator(np.random.PCG64())
    gen.integers(0, 10, 3, dtype=np.uint32)  # a used generator, its 32-bit half buffered
    for d in (day, day // 2):
        got = streams.reseed(gen, Stream.COLLECTIVE, d, *qualifiers)
        want = streams.get(Stream.COLLECTIVE, d, *qualifiers)
        assert got is gen and got.bit_generator.state == want.bit_generator.state
        draws = [(rng.integers(0, 2**31, 5, dtype=np.uint32).tobytes(), rng.random(7).tobytes(),
                  rng.binomial(np.arange(1, 9), 0.3).tobytes()) for rng in (got, want)]
        assert draws[0] == draws[1]
