"""Round 8 (resident gathers): the city's mean trust (``ResidentTable.mean_trust``) against the
numpy formulation it replaced, bit for bit, on small random inputs (edge cases included)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.residents import ResidentTable

_SPECIAL32 = np.array([0.0, -0.0, 1.0, np.nan, -0.25, 1.5, np.inf, 1e-40], np.float32)


def _table(rng, n_grids, relax_hours=72.0):
    """A resident table of random sizes (empty grids too) and values (special ones included)."""
    sizes = rng.integers(0, 6, n_grids)
    sizes[rng.integers(0, n_grids)] += 1  # at least one resident
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(start[-1])
    tab = ResidentTable.__new__(ResidentTable)
    tab._state = np.zeros((n, 4), np.float32)
    tab._set_views()
    for column, scale in ((tab.trust, 1.0), (tab.tension, 1.0), (tab.tension_t, 500.0)):
        column[:] = rng.random(n) * scale
        pick = rng.random(n) < 0.2
        column[pick] = rng.choice(_SPECIAL32, int(pick.sum()))
    tab.start = start
    tab.layout = SimpleNamespace(resident_start=start, residents_per_grid=sizes.astype(np.int64))
    tab.relax_hours = relax_hours
    tab.trust_shift = rng.normal(0.0, 0.4, n_grids)
    tab.trust_shift[rng.random(n_grids) < 0.1] = rng.choice([0.0, -0.0, np.nan, -2.0, 2.0])
    tab.trust_sum = rng.random(n_grids) * sizes * 1.2
    tab.trust_sum[rng.random(n_grids) < 0.1] = rng.choice([0.0, -0.0, np.nan, -1.0])
    return tab


def _mean_trust_before(tab):
    """``ResidentTable.mean_trust`` as numpy computed it (the reference)."""
    w = tab.layout.residents_per_grid
    return float(np.sum(tab.grid_mean_trust() * w) / max(w.sum(), 1))


def _same(a, b):
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.integers(0, 2**32 - 1))
def test_mean_trust_is_the_numpy_formulation(n_grids, seed):
    rng = np.random.default_rng(seed)
    tab = _table(rng, n_grids)
    assert _same(tab.mean_trust(), _mean_trust_before(tab))


def test_mean_trust_edge_cases():
    rng = np.random.default_rng(3)
    for n_grids in (1, 7, 8, 9, 127, 128, 129, 1000, 8193, 12953):  # across the pairwise sum's blocks
        tab = _table(rng, n_grids)
        tab.trust_sum = np.nan_to_num(tab.trust_sum)
        tab.trust_shift = np.nan_to_num(tab.trust_shift)
        assert _same(tab.mean_trust(), _mean_trust_before(tab))
        tab.trust_sum[:] = -0.0  # a sum of -0.0s: numpy's is 0.0
        tab.trust_shift[:] = -0.0
        assert _same(tab.mean_trust(), _mean_trust_before(tab))
        tab.layout.residents_per_grid[:] = 0  # no residents: divided by 1
        assert _same(tab.mean_trust(), _mean_trust_before(tab))
