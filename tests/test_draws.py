"""The compiled equivalents of numpy's draws give numpy's numbers and leave the generator where
numpy leaves it: the Poisson counts of emergence (sim/engine/draws.py) and the seeding of named
streams (SeedSequence's hash, sim/engine/streams.py)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.draws import poisson_cells
from sim.engine.streams import Stream, Streams, load_kernel, mechanism_id, root_sequence


def _numpy_cells(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    counts = rng.poisson(rate)
    return np.repeat(np.arange(counts.size), counts.ravel())


@pytest.mark.parametrize("scale", [1e-9, 0.001, 0.05, 0.9, 5.0, 9.999, 30.0])
def test_poisson_cells_is_numpys(scale: float) -> None:
    pick = np.random.default_rng(1)
    for trial in range(60):
        shape = (int(pick.integers(0, 900)), int(pick.integers(1, 6)))
        rate = pick.random(shape) * scale
        rate[pick.random(shape) < 0.2] = 0.0
        if trial % 5 == 0:
            rate = np.asfortranarray(rate)
        seed = int(pick.integers(1 << 60))
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        if trial % 3 == 0:  # a buffered 32-bit half in the generator's state
            for g in (a, b):
                g.integers(0, 5, dtype=np.uint32)
        want, got = _numpy_cells(a, rate), poisson_cells(b, rate)
        assert got.dtype == want.dtype and np.array_equal(got, want)
        assert a.bit_generator.state == b.bit_generator.state
        assert np.array_equal(a.random(3), b.random(3))


def test_poisson_cells_rejects_what_numpy_rejects() -> None:
    for bad in (np.array([0.1, -1.0]), np.array([np.nan])):
        with pytest.raises(ValueError):
            poisson_cells(np.random.default_rng(0), bad)


@pytest.mark.parametrize("compiled", [False, True])
def test_stream_seeds_are_seedsequences(compiled: bool) -> None:
    if compiled:
        load_kernel()
    roots = [root_sequence(0), root_sequence(7), root_sequence(2**70 + 3), root_sequence(np.random.default_rng(4)),
             np.random.SeedSequence(5, spawn_key=(3, 2**40)), np.random.SeedSequence(), np.random.SeedSequence([1, 2])]
    pick = np.random.default_rng(0)
    for root in roots:
        streams = Streams(root)
        for t in range(40):
            stream = list(Stream)[t % len(Stream)]
            day = int(pick.integers(0, 3000)) if t % 7 else [0, 2**32 - 1, 2**32][t % 3]
            quals = tuple(int(q) for q in pick.integers(0, 9, t % 3))
            key = (*root.spawn_key, mechanism_id(":".join([stream.value, *map(str, quals)])), day)
            want = np.random.Generator(np.random.PCG64(np.random.SeedSequence(root.entropy, spawn_key=key)))
            got = streams.get(stream, day, *quals)
            assert got.bit_generator.state == want.bit_generator.state
            assert np.array_equal(got.random(4), want.random(4))
