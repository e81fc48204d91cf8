"""Named random streams (common random numbers).

Every mechanism draws from its own stream, re-derived each day from the root seed:
``SeedSequence(root.entropy, spawn_key=root.spawn_key + (mechanism_id, day))``. A policy change
that alters how many draws one mechanism makes on one day cannot shift the draws of any other
mechanism, nor of the same mechanism on another day.

Stream names are the members of :class:`Stream`, so a typo is an AttributeError, not a new,
silently independent stream. Qualified streams (one per shock, per staffing level and day) are
spelled ``name:qualifier:...`` by :meth:`Streams.get`.
"""

from __future__ import annotations

import zlib
from enum import StrEnum

import numpy as np

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


class Stream(StrEnum):
    """Every random stream of the model, one per mechanism."""

    MESA = "mesa"  # Mesa's own model.rng / model.random (the model does not use them)
    LAYOUT = "layout"  # grid populations
    RESIDENTS = "residents"  # initial trust and reporting propensity
    VIDEO = "video"  # the fixed order in which grids get cameras
    SHOCK = "shock"  # which grids a shock hits (qualified by the shock's index)
    OVERDISPERSION = "overdispersion"  # weekly gamma noise on emergence (per week)
    EMERGENCE = "emergence"  # new-case counts, times and residents (per day)
    DETECTION = "detection"  # detection and fading clocks, channel choice
    ESCALATION = "escalation"  # severity thresholds
    SERVICE = "service"  # work per level
    OUTCOME = "outcome"  # success per level
    ROUTING = "routing"  # on-the-spot fixes, misrouting, court choice per level
    STAFF = "staff"  # speeds of new handlers (qualified by level and day)
    RECURRENCE = "recurrence"  # whether and when an unresolved grievance comes back
    WARNING_SURVEY = "warning_survey"  # who the weekly trust survey samples, and their answers' noise
    WARNING_RESPONSE = "warning_response"  # which latent grievances a pre-emptive visit finds
    NEIGHBOURHOOD = "neighbourhood"  # communities' deprivation index (reporting and need)
    COLLECTIVE = "collective"  # Granovetter thresholds of aggrieved residents (per day)
    CONTAGION = "contagion"  # counts, times and residents of triggered grievances (per day)


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

    def get(self, stream: Stream, day: int = 0, *qualifiers: int) -> np.random.Generator:
        """The generator for ``stream`` (qualified, e.g. by a shock's index) on simulated ``day``:
        the same inputs always give the same stream."""
        if not isinstance(stream, Stream):
            raise TypeError(f"stream must be a Stream member, not {stream!r}")
        name = ":".join([stream.value, *map(str, qualifiers)])
        key = (*self.root.spawn_key, mechanism_id(name), int(day))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.root.entropy, spawn_key=key)))

    def mesa_seed(self) -> np.random.SeedSequence:
        """The seed handed to :class:`mesa.Model` (its own stream, apart from every mechanism)."""
        return np.random.SeedSequence(self.root.entropy,
                                      spawn_key=(*self.root.spawn_key, mechanism_id(Stream.MESA)))

    def seed_label(self) -> int | str:
        """The root entropy as recorded in provenance."""
        return int(self.root.entropy) if isinstance(self.root.entropy, int) else str(self.root.entropy)
