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

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic
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

_MULT = 0x2360ED051FC65DA44385DF649FCCF645  # PCG's default 128-bit multiplier
_U58, _U63, _U1, _U0 = np.uint64(58), np.uint64(63), np.uint64(1), np.uint64(0)
_MASK64 = (1 << 64) - 1


@intrinsic
def _lcg(typingctx: Any, sh: Any, sl: Any, ih: Any, il: Any) -> Any:  # pragma: no cover - compiled
    """``state * MULT + inc (mod 2**128)`` on the halves of state and increment, in LLVM's
    128-bit integers (one wide multiply; numba has no 128-bit type)."""
    if not all(a == types.uint64 for a in (sh, sl, ih, il)):
        return None
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64, types.uint64, types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wide, word = ir.IntType(128), ir.IntType(64)

        def join(hi: Any, lo: Any) -> Any:
            return builder.or_(builder.shl(builder.zext(hi, wide), ir.Constant(wide, 64)), builder.zext(lo, wide))

        r = builder.add(builder.mul(join(args[0], args[1]), ir.Constant(wide, _MULT)), join(args[2], args[3]))
        hi = builder.trunc(builder.lshr(r, ir.Constant(wide, 64)), word)
        return context.make_tuple(builder, signature.return_type, (hi, builder.trunc(r, word)))

    return sig, codegen


@njit(cache=True, inline="always")
def _step(st):  # pragma: no cover - compiled
    # state = state * MULT + inc (mod 2**128)
    st[0], st[1] = _lcg(st[0], st[1], st[2], st[3])  # type: ignore[call-arg]  # an intrinsic


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


@njit(cache=True, inline="always")
def standard_exponential(st):  # pragma: no cover - compiled
    """``Generator.standard_exponential()`` (= ``exponential(1.0)``): numpy's ziggurat. Inlined:
    as a call (the state array passed as a struct of seven words) it took 5.1 ns a draw, inline
    2.9 (emergence's clocks draw fifteen a case)."""
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


@njit(cache=True, inline="always")
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
    full = dict(rng.bit_generator.state)
    full["state"] = {"state": (int(st[0]) << 64) | int(st[1]), "inc": (int(st[2]) << 64) | int(st[3])}
    rng.bit_generator.state = full
