"""Round 6 of issue 16 (close and emergence at 1x): the compiled passes against the numpy
formulations they replaced, bit for bit, on small random inputs."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

from sim.engine.cases import COLUMNS, CaseTable
from sim.engine.residents import ResidentTable, _position_table


def _reference_append(tab: dict[str, np.ndarray], count: int, next_id: int) -> None:
    """The per-column fill that ``CaseTable.append`` replaced, on plain arrays."""
    for name, (dt, fill, shape) in COLUMNS.items():
        new = np.empty((count, *shape), dt)
        new[...] = fill
        if name == "case_id":
            new[:] = np.arange(next_id, next_id + count)
        tab[name] = np.concatenate([tab[name], new])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.lists(st.integers(0, 200), max_size=30)), max_size=8),
       st.integers(1, 64))
def test_append_and_drop_match_plain_arrays(steps, capacity):
    tab = CaseTable(capacity)
    ref = {name: np.empty((0, *shape), dt) for name, (dt, _fill, shape) in COLUMNS.items()}
    rng = np.random.default_rng(len(steps))
    for count, holes in steps:
        sl = tab.append(count)
        _reference_append(ref, count, tab.next_id - count)
        # distinct values in the new rows, so that a misplaced byte shows
        for name in ("grid", "t_emerge", "service_u", "stage", "choice_u"):
            vals = rng.integers(0, 100, size=tab[name][sl].shape).astype(tab[name].dtype)
            tab[name][sl] = vals
            ref[name][sl] = vals
        rows = np.unique(np.asarray([h for h in holes if h < tab.n], dtype=np.int64))
        tab.drop(rows)
        for name in ref:
            ref[name] = np.delete(ref[name], rows, axis=0)
        for name in COLUMNS:
            np.testing.assert_array_equal(tab[name], ref[name], err_msg=name)
    # a loaded table makes its byte views again
    tab = pickle.loads(pickle.dumps(tab))
    tab.append(3)
    _reference_append(ref, 3, tab.next_id - 3)
    for name in COLUMNS:
        np.testing.assert_array_equal(tab[name], ref[name], err_msg=name)


def _residents(n_grids: int, per_grid: int, dispersion: float, rng: np.random.Generator) -> ResidentTable:
    """A bare resident table (no layout draws): the columns add_tension and pick read."""
    res = ResidentTable.__new__(ResidentTable)
    sizes = rng.integers(1, per_grid + 1, n_grids).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    res.layout = SimpleNamespace(resident_start=start, residents_per_grid=sizes)
    res.start = start
    res._state = np.zeros((int(start[-1]), 4), dtype=np.float32)
    res._set_views()
    res.tension[:] = rng.random(res.tension.size).astype(np.float32)
    res.tension_t[:] = rng.integers(0, 500, res.tension.size).astype(np.float32)
    res.relax_hours = 30.0 * 24.0
    res.dispute_shape = 1.0 / dispersion if dispersion > 0 else 0.0
    res._pick_table = None
    return res


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 300), st.floats(0.01, 0.5), st.sampled_from([240.0, 480.5, 600.0]))
def test_add_tension_matches_numpy(seed, n, amount, now):
    rng = np.random.default_rng(seed)
    res = _residents(5, 8, 0.0, rng)
    idx = rng.integers(-1, len(res), n)  # repeats, and -1 (numpy: the last resident)
    t, tt = res.tension.copy(), res.tension_t.copy()
    val = np.minimum(t[idx] * np.exp(-np.maximum(now - tt[idx], 0.0) / res.relax_hours) + amount, 1.0)
    t[idx] = val
    tt[idx] = now
    res.add_tension(idx, amount, now)
    np.testing.assert_array_equal(res.tension, t)
    np.testing.assert_array_equal(res.tension_t, tt)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 400), st.sampled_from([0.0, 0.5, 2.0]))
def test_pick_matches_numpy(seed, n, dispersion):
    rng = np.random.default_rng(seed)
    res = _residents(20, 50, dispersion, rng)
    u = rng.random((n, 4))[:, 0]  # a strided column, as emergence passes it
    u[: n // 10] = rng.choice([0.0, 0.3, 0.65, 0.5, 1e-300, 1 - 2**-53], n // 10)
    grid = rng.integers(0, 20, n)
    start, size = res.layout.resident_start[grid], res.layout.residents_per_grid[grid]
    x = u
    if dispersion > 0:
        z, log_x = _position_table(res.dispute_shape)
        x = np.exp(np.interp(special.logit(u), z, log_x))
    want = start + np.minimum((x * size).astype(np.int64), size - 1)
    np.testing.assert_array_equal(res.pick(u, grid), want)
