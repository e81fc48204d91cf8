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
from typing import Any

import numpy as np
from numba import njit
from numpy.random.bit_generator import ISpawnableSeedSequence

from .pcg import seeded

SeedLike = int | np.random.SeedSequence | np.random.Generator | None


class Stream(StrEnum):
    """Every random stream of the model, one per mechanism."""

    MESA = "mesa"  # Mesa's own model.rng / model.random (the model does not use them)
    LAYOUT = "layout"  # grid populations
    RESIDENTS = "residents"  # initial trust and reporting propensity
    VIDEO = "video"  # the fixed order in which grids get cameras
    SHOCK = "shock"  # which grids a shock hits (qualified by the shock's index)
    OVERDISPERSION = "overdispersion"  # weekly gamma noise on emergence (per week)
    OVERDISPERSION_COMMON = "overdispersion_common"  # city-wide weekly gamma noise (per week)
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
    CHOICE = "choice"  # residents' channel choice: choice and negotiation uniforms (per case)


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
        self._ids: dict[tuple[Stream, tuple[int, ...]], int] = {}
        # the root's words of SeedSequence's assembled entropy, then two slots for a stream's
        # mechanism id and day (None where the compiled hash does not apply: use numpy's)
        self._prefix = _entropy_words(root)

    def get(self, stream: Stream, day: int = 0, *qualifiers: int) -> np.random.Generator:
        """The generator for ``stream`` (qualified, e.g. by a shock's index) on simulated ``day``:
        the same inputs always give the same stream."""
        mech = self._mech(stream, qualifiers)
        day = int(day)
        if _LOADED and self._prefix is not None and 0 <= day <= _MASK32:
            # SeedSequence(root.entropy, spawn_key=key)'s hash, compiled: 2 µs instead of 9
            words = self._prefix.copy()
            words[-2], words[-1] = mech, day
            return np.random.Generator(np.random.PCG64(_Hashed(_seed_words(words))))  # type: ignore[arg-type]
        key = (*self.root.spawn_key, mech, day)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.root.entropy, spawn_key=key)))

    def state(self, stream: Stream, day: int = 0, *qualifiers: int) -> np.ndarray:
        """The stream of :meth:`get` as a fresh PCG64's four state words, for compiled draws
        (:mod:`sim.engine.pcg`): the same numbers as ``get(stream, day, *qualifiers)``'s."""
        mech = self._mech(stream, qualifiers)
        day = int(day)
        if _LOADED and self._prefix is not None and 0 <= day <= _MASK32:
            words = self._prefix.copy()
            words[-2], words[-1] = mech, day
            return seeded(_seed_words(words))
        key = (*self.root.spawn_key, mech, day)
        return seeded(np.random.SeedSequence(self.root.entropy, spawn_key=key).generate_state(4, np.uint64))

    def reseed(self, gen: np.random.Generator, stream: Stream, day: int = 0, *qualifiers: int) -> np.random.Generator:
        """``gen`` (a PCG64 ``Generator``) put in the state of a fresh ``get(stream, day,
        *qualifiers)``, 32-bit buffer empty: the same numbers from then on. A numba kernel handed
        the same Generator object every day binds it in ~18 µs, a fresh one in ~70 µs (numpy
        builds a bit generator's ctypes bindings once)."""
        st = self.state(stream, day, *qualifiers)
        gen.bit_generator.state = {"bit_generator": "PCG64",
                                   "state": {"state": (int(st[0]) << 64) | int(st[1]),
                                             "inc": (int(st[2]) << 64) | int(st[3])},
                                   "has_uint32": 0, "uinteger": 0}
        return gen

    def states(self, streams: tuple[Stream, ...], day: int = 0, *qualifiers: int) -> np.ndarray:
        """:meth:`state` of each of ``streams`` (same day and qualifiers), as the rows of one array:
        one compiled call for them all (a stage seeding seven streams paid seven times two)."""
        day = int(day)
        if not (_LOADED and self._prefix is not None and 0 <= day <= _MASK32):
            return np.stack([self.state(stream, day, *qualifiers) for stream in streams])
        mechs = np.array([self._mech(stream, qualifiers) for stream in streams], dtype=np.uint64)
        return _seeded_rows(self._prefix, mechs, np.uint64(day))

    def _mech(self, stream: Stream, qualifiers: tuple[int, ...]) -> int:
        """The mechanism id of a (qualified) stream, kept."""
        if not isinstance(stream, Stream):
            raise TypeError(f"stream must be a Stream member, not {stream!r}")
        mech = self._ids.get((stream, qualifiers))
        if mech is None:
            mech = self._ids[(stream, qualifiers)] = mechanism_id(":".join([stream.value, *map(str, qualifiers)]))
        return mech

    def mesa_seed(self) -> np.random.SeedSequence:
        """The seed handed to :class:`mesa.Model` (its own stream, apart from every mechanism)."""
        return np.random.SeedSequence(self.root.entropy,
                                      spawn_key=(*self.root.spawn_key, mechanism_id(Stream.MESA)))

    def seed_label(self) -> int | str:
        """The root entropy as recorded in provenance."""
        return int(self.root.entropy) if isinstance(self.root.entropy, int) else str(self.root.entropy)


def load_kernel() -> None:
    """Load the compiled seeding (from numba's cache). Until then ``Streams.get`` seeds through
    numpy's SeedSequence — the same generators — so a model's build does not wait for numba's
    runtime before its first draws: the model loads it while the residents are drawn."""
    global _LOADED
    _seed_words(np.zeros(6, dtype=np.uint64))
    _LOADED = True


_LOADED = False
# ----------------------------------------------------------------- SeedSequence's hash, compiled
# numpy's SeedSequence (numpy/random/bit_generator.pyx) hashes its entropy words into a pool of
# four 32-bit words and hashes the pool into the bit generator's seed; a stream's SeedSequence is
# made, used once by PCG64 and dropped. The same arithmetic compiled gives PCG64 the same four
# 64-bit words (tests/test_draws.py checks them, and the generators' states, against numpy's).
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715


def _words32(n: int) -> list[int]:
    """An int as SeedSequence splits it: 32-bit words, least significant first ([0] for 0)."""
    out = [] if n else [0]
    while n > 0:
        out.append(n & _MASK32)
        n >>= 32
    return out


def _entropy_words(root: np.random.SeedSequence) -> np.ndarray | None:
    """SeedSequence's assembled entropy for ``spawn_key=(*root.spawn_key, id, day)`` with two
    zero slots for the id and the day; None for a root the compiled hash does not cover."""
    ent, key = root.entropy, root.spawn_key
    if not isinstance(ent, int) or ent < 0 or root.pool_size != 4 or \
            not all(isinstance(k, int) and k >= 0 for k in key):
        return None
    run = _words32(ent)
    run += [0] * (4 - len(run))  # a spawn key is present: entropy padded to the pool size
    return np.array([*run, *(w for k in key for w in _words32(k)), 0, 0], dtype=np.uint64)


class _Hashed(ISpawnableSeedSequence):
    """Hands PCG64 the seed words already hashed (what ``generate_state(4, np.uint64)`` gives)."""

    __slots__ = ("words",)

    def __init__(self, words: np.ndarray) -> None:
        self.words = words

    def generate_state(self, n_words: int, dtype: Any = np.uint32) -> np.ndarray:
        """The hashed words (PCG64 asks for four 64-bit words, its only request)."""
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("precomputed for PCG64's 4 uint64 words only")
        return self.words

    def spawn(self, n_children: int) -> list[Any]:
        """Not kept: a stream's generator is not spawned from."""
        raise NotImplementedError("a named stream's seed cannot spawn")


@njit(cache=True)
def _seed_words(entropy):  # pragma: no cover - compiled
    """SeedSequence's pool from the entropy words, then ``generate_state(4, np.uint64)``."""
    m = np.uint64(_MASK32)
    pool = np.zeros(4, np.uint64)
    hc = np.uint64(_INIT_A)
    n = entropy.shape[0]
    for i in range(4):  # hashmix(entropy[i]) into the pool
        v = entropy[i] if i < n else np.uint64(0)
        v = (v ^ hc) & m
        hc = (hc * np.uint64(_MULT_A)) & m
        v = (v * hc) & m
        pool[i] = v ^ (v >> np.uint64(16))
    for i in range(16 + 4 * max(n - 4, 0)):
        if i < 16:  # every pool word mixed into every other
            src, dst = i // 4, i % 4
            if src == dst:
                continue
            v = pool[src]
        else:  # then the remaining entropy words into each pool word
            src, dst = 4 + (i - 16) // 4, (i - 16) % 4
            v = entropy[src]
        v = (v ^ hc) & m
        hc = (hc * np.uint64(_MULT_A)) & m
        v = (v * hc) & m
        h = v ^ (v >> np.uint64(16))
        r = (np.uint64(_MIX_L) * pool[dst] - np.uint64(_MIX_R) * h) & m
        pool[dst] = r ^ (r >> np.uint64(16))
    out = np.zeros(4, np.uint64)
    hb = np.uint64(_INIT_B)
    for j in range(8):  # generate_state: 8 32-bit words, paired little-endian into 4 uint64
        v = (pool[j % 4] ^ hb) & m
        hb = (hb * np.uint64(_MULT_B)) & m
        v = (v * hb) & m
        v = v ^ (v >> np.uint64(16))
        out[j // 2] |= v << np.uint64(32 * (j % 2))
    return out


@njit(cache=True)
def _seeded_rows(prefix, mechs, day):  # pragma: no cover - compiled
    """``seeded(_seed_words(words))`` of each mechanism id in ``mechs`` on ``day`` (the words:
    ``prefix`` with its last two slots set to them, as :meth:`Streams.state` sets them)."""
    out = np.empty((mechs.shape[0], 4), np.uint64)
    words = prefix.copy()
    for i in range(mechs.shape[0]):
        words[-2] = mechs[i]
        words[-1] = day
        out[i] = seeded(_seed_words(words))
    return out
