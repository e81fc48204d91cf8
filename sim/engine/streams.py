"""Named random streams (common random numbers).

Every mechanism draws from its own stream, re-derived each day from the root seed:
``SeedSequence(root.entropy, spawn_key=root.spawn_key + (mechanism_id, day))``. A policy change
that alters how many draws one mechanism makes on one day cannot shift the draws of any other
mechanism, nor of the same mechanism on another day.
"""

from __future__ import annotations

import zlib

import numpy as np

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


def root_sequence(rng: SeedLike) -> np.random.SeedSequence:
    """Normalise a seed, SeedSequence or Generator to the root SeedSequence of a run."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        # A Generator carries no SeedSequence we can reuse; draw the root entropy from it.
        return np.random.SeedSequence(int(rng.integers(0, 2**63)))
    return np.random.SeedSequence(0 if rng is None else int(rng))


def mechanism_id(name: str) -> int:
    """A stable integer for a mechanism name (crc32, so it does not depend on Python's hash seed)."""
    return zlib.crc32(name.encode())


class Streams:
    """Factory of per-mechanism, per-day generators derived from one root SeedSequence."""

    def __init__(self, root: np.random.SeedSequence) -> None:
        self.root = root

    def get(self, mechanism: str, day: int = 0) -> np.random.Generator:
        """The generator for ``mechanism`` on simulated ``day`` (same inputs → same stream)."""
        key = tuple(self.root.spawn_key) + (mechanism_id(mechanism), int(day))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.root.entropy, spawn_key=key)))

    def seed_label(self) -> int | str:
        """The root entropy as recorded in provenance."""
        return int(self.root.entropy) if isinstance(self.root.entropy, int) else str(self.root.entropy)
