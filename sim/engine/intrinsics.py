"""Two machine-level helpers for compiled kernels that numba does not offer: ``memmove`` and
``prefetch``. Both are emitted as LLVM intrinsics, so the kernels that use them stay cacheable
(a ``ctypes`` call would not be) and the results are exactly those of the plain loops.

* ``memmove(arr, dst, src, count)`` moves a run of elements within one array at memory speed.
  An element-by-element loop over overlapping ranges cannot be vectorised (the compiler cannot
  prove the ranges do not overlap), so moving the rows of the case table that way ran at about
  a byte per nanosecond.
* ``prefetch(arr, index)`` asks the CPU to start loading ``arr[index]`` into the cache. A loop
  that reads one random resident record per case waits for memory on nearly every read; asking
  for the record a few dozen cases ahead overlaps those waits. It only changes timing.

Numba's cache tracks only the file of a cached kernel: after editing this file, delete the
``__pycache__`` entries of the kernels that use it (``cases``, ``escalation``) or touch those files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic


def _element_ptr(context: Any, builder: Any, arrty: Any, arr: Any, index: Any) -> Any:
    """``&arr[index]`` as an ``i8*`` for a C-contiguous 1-D ``arr`` (no bounds check)."""
    a = context.make_array(arrty)(context, builder, arr)
    size = context.get_abi_sizeof(context.get_data_type(arrty.dtype))
    base = builder.bitcast(a.data, cgutils.voidptr_t)
    return builder.gep(base, [builder.mul(index, context.get_constant(types.intp, size))])


def _flat_c(arr: Any) -> bool:
    return isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C"


@intrinsic
def _memmove(typingctx: Any, arr: Any, dst: Any, src: Any, count: Any) -> Any:  # pragma: no cover - compiled
    """``arr[dst:dst + count] = arr[src:src + count]`` for a C-contiguous 1-D ``arr``, overlap
    allowed (indices in elements; no bounds check: the caller keeps them inside ``arr``)."""
    if not _flat_c(arr):
        return None
    sig = types.void(arr, types.intp, types.intp, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aty = signature.args[0]
        size = context.get_abi_sizeof(context.get_data_type(aty.dtype))
        to = _element_ptr(context, builder, aty, args[0], args[1])
        frm = _element_ptr(context, builder, aty, args[0], args[2])
        cgutils.raw_memmove(builder, to, frm, args[3], size)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _prefetch(typingctx: Any, arr: Any, index: Any) -> Any:  # pragma: no cover - compiled
    """Hint: ``arr[index]`` will be read soon (no bounds check needed: a prefetch never faults)."""
    if not isinstance(arr, types.Array) or arr.ndim != 1:
        return None
    sig = types.void(arr, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aty = signature.args[0]
        a = context.make_array(aty)(context, builder, args[0])
        stride = cgutils.unpack_tuple(builder, a.strides, 1)[0]
        base = builder.bitcast(a.data, cgutils.voidptr_t)
        ptr = builder.gep(base, [builder.mul(args[1], stride)])
        ir = cgutils.ir  # llvmlite's IR builder, as numba imports it
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [cgutils.voidptr_t, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [cgutils.voidptr_t], fnty)
        # read, high temporal locality, data cache
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


# what the kernels call (the typing context is numba's business, not the caller's)
memmove = cast(Callable[[Any, int, int, int], None], _memmove)
prefetch = cast(Callable[[Any, int], None], _prefetch)


_LOW = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_ZERO = np.uint64(0)


@njit(cache=True)
def no_byte(words, pos, rep):  # pragma: no cover - compiled
    """Whether the 8 bytes at byte ``pos`` (a multiple of 8) of ``words`` (a byte column's buffer
    as uint64, ``CaseTable.words``) all differ from the byte repeated in ``rep`` (``value ×
    0x0101010101010101``). Exact, the classic test: ``(x - 0x01..) & ~x & 0x80..`` is nonzero if and
    only if some byte of ``x = word ^ rep`` is zero (a borrow only marks bytes above a zero byte)."""
    x = words[pos >> 3] ^ rep
    return ((x - _LOW) & ~x & _HIGH) == _ZERO


def repeat_byte(value: int) -> np.uint64:
    """``value`` (a byte, -128..255) in each of the 8 bytes of a uint64 (for :func:`no_byte`)."""
    return np.uint64((value & 0xFF) * 0x0101010101010101)
