"""Round 8 kernels of the front half of the day (emergence, detection, channel choice, routing):
each gives what the code it replaces gave, bit for bit (old code kept here as the reference)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.front_kernels import stable_order


# ----------------------------------------------------------------- emergence: arrival order
@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, exclude_max=True), max_size=200), st.sampled_from([0.0, 24.0, 9_000.0, 1e7]),
       st.integers(0, 7))
def test_stable_order_is_numpys_stable_argsort(u: list[float], t0: float, ties: int) -> None:
    x = np.asarray(u, dtype=np.float64)
    if ties:  # few distinct times: ties everywhere
        x = np.floor(x * ties) / ties
    t = t0 + 24.0 * x
    assert np.array_equal(stable_order(t, t0, 24.0), np.argsort(t, kind="stable"))


def test_stable_order_edges() -> None:
    for t in (np.zeros(0), np.full(5, 48.0), np.full(7, 72.0), np.array([72.0, 48.0, 60.0, 48.0]),
              np.nextafter(72.0, 0.0) - np.arange(4) * 1e-13):
        assert np.array_equal(stable_order(t, 48.0, 24.0), np.argsort(t, kind="stable"))
    pick = np.random.default_rng(3)
    for n in (1, 2, 1_500, 20_000):
        t = 240.0 + 24.0 * pick.random(n)
        assert np.array_equal(stable_order(t, 240.0, 24.0), np.argsort(t, kind="stable"))
