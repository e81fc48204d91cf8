"""numpy's PCG64 and the draws the model takes from it, compiled, on a state of four words.

A named stream of a day (:meth:`~sim.engine.streams.Streams.get`) is a fresh
``Generator(PCG64(seed))``, used by one stage and dropped. Handing a ``Generator`` to a numba
kernel costs 12–40 µs (numba rebuilds its ctypes bindings each call) and making one 11 µs; a day
of emergence makes some twenty. Here the stream is four ``uint64`` words instead
(:meth:`~sim.engine.streams.Streams.state`): PCG64 seeded as numpy seeds it
(``pcg64_set_seed``: state and increment from the hashed seed words), stepped as numpy steps it
(128-bit LCG, XSL-RR output), and numpy's ``next_double`` and ziggurat exponential and normal
(``distributions.c``; numba's port and its tables) on top: the same numbers in the same order
(``tests/test_kernels_round6_front.py`` checks them against numpy's ``Generator``).

A state is ``[state_hi, state_lo, inc_hi, inc_lo]`` (numpy's ``bit_generator.state`` as two
128-bit ints).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.np.random._constants import (
    fe_double,
    fi_double,
    ke_double,
    ki_double,
    we_double,
    wi_double,
    ziggurat_exp_r,
    ziggurat_nor_inv_r,
    ziggurat_nor_r,
)

_M32 = np.uint64(0xFFFFFFFF)
_MULT_HI = np.uint64(0x2360ED051FC65DA4)  # PCG's default 128-bit multiplier
_MULT_LO = np.uint64(0x4385DF649FCCF645)
_U32, _U58, _U63, _U1, _U0 = np.uint64(32), np.uint64(58), np.uint64(63), np.uint64(1), np.uint64(0)
_MASK64 = (1 << 64) - 1


@njit(cache=True, inline="always")
def _mulhi(a, b):  # pragma: no cover - compiled
    # the high 64 bits of the 128-bit product a * b
    a0, a1 = a & _M32, a >> _U32
    b0, b1 = b & _M32, b >> _U32
    t = a1 * b0 + ((a0 * b0) >> _U32)
    w1 = a0 * b1 + (t & _M32)
    return a1 * b1 + (t >> _U32) + (w1 >> _U32)


@njit(cache=True, inline="always")
def _step(st):  # pragma: no cover - compiled
    # state = state * MULT + inc (mod 2**128)
    sh, sl = st[0], st[1]
    hi = _mulhi(sl, _MULT_LO) + sh * _MULT_LO + sl * _MULT_HI
    lo = sl * _MULT_LO
    lo2 = lo + st[3]
    hi = hi + st[2] + (_U1 if lo2 < lo else _U0)
    st[0], st[1] = hi, lo2


@njit(cache=True)
def seeded(words):  # pragma: no cover - compiled
    """The state of ``PCG64(seed)`` whose seed sequence gives ``words`` (4 uint64): numpy's
    ``pcg64_set_seed(words[0:2], words[2:4])``."""
    st = np.zeros(4, np.uint64)
    st[3] = (words[3] << _U1) | _U1  # inc = (initseq << 1) | 1
    st[2] = (words[2] << _U1) | (words[3] >> _U63)
    _step(st)
    lo = st[1] + words[1]
    st[0] = st[0] + words[0] + (_U1 if lo < st[1] else _U0)
    st[1] = lo
    _step(st)
    return st


@njit(cache=True, inline="always")
def next_uint64(st):  # pragma: no cover - compiled
    """numpy's ``pcg64_next64``: step, then the XSL-RR output of the new state."""
    _step(st)
    v = st[0] ^ st[1]
    r = st[0] >> _U58
    return (v >> r) | (v << ((np.uint64(64) - r) & _U63))


@njit(cache=True, inline="always")
def next_double(st):  # pragma: no cover - compiled
    """``Generator.random()``: the top 53 bits of a 64-bit draw."""
    return np.float64(next_uint64(st) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def standard_exponential(st):  # pragma: no cover - compiled
    """``Generator.standard_exponential()`` (= ``exponential(1.0)``): numpy's ziggurat."""
    while True:
        ri = next_uint64(st) >> np.uint64(3)
        idx = ri & np.uint64(0xFF)
        ri >>= np.uint64(8)
        x = np.float64(ri) * we_double[idx]
        if ri < ke_double[idx]:
            return x
        if idx == 0:
            return ziggurat_exp_r - np.log1p(-next_double(st))
        if (fe_double[idx - _U1] - fe_double[idx]) * next_double(st) + fe_double[idx] < np.exp(-x):
            return x


@njit(cache=True)
def standard_normal(st):  # pragma: no cover - compiled
    """``Generator.standard_normal()``: numpy's ziggurat."""
    while True:
        r = next_uint64(st)
        idx = r & np.uint64(0xFF)
        r >>= np.uint64(8)
        sign = r & _U1
        rabs = (r >> _U1) & np.uint64(0x000FFFFFFFFFFFFF)
        x = np.float64(rabs) * wi_double[idx]
        if sign == _U1:
            x = -x
        if rabs < ki_double[idx]:
            return x
        if idx == 0:
            while True:
                xx = -ziggurat_nor_inv_r * np.log1p(-next_double(st))
                yy = -np.log1p(-next_double(st))
                if yy + yy > xx * xx:
                    if (rabs >> np.uint64(8)) & _U1:
                        return -(ziggurat_nor_r + xx)
                    return ziggurat_nor_r + xx
        elif (fi_double[idx - _U1] - fi_double[idx]) * next_double(st) + fi_double[idx] < np.exp(-0.5 * x * x):
            return x


@njit(cache=True)
def geometric(st, p):  # pragma: no cover - compiled
    """``Generator.geometric(p)`` for ``p < 1/3`` (numpy's inversion: the model's p is 0.05)."""
    return np.int64(np.ceil(-standard_exponential(st) / np.log1p(-p)))


def from_generator(rng: np.random.Generator) -> np.ndarray:
    """The state words of a PCG64 ``Generator`` (see :func:`to_generator`)."""
    s = rng.bit_generator.state["state"]
    st, inc = int(s["state"]), int(s["inc"])
    return np.array([st >> 64, st & _MASK64, inc >> 64, inc & _MASK64], dtype=np.uint64)


def to_generator(rng: np.random.Generator, st: np.ndarray) -> None:
    """Put the state words ``st`` back into ``rng`` (its buffered 32-bit half is kept: the
    draws here never touch it, as numpy's doubles do not)."""
    full = rng.bit_generator.state
    full["state"] = {"state": (int(st[0]) << 64) | int(st[1]), "inc": (int(st[2]) << 64) | int(st[3])}
    rng.bit_generator.state = full
