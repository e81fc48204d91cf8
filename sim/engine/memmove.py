"""``memmove`` inside compiled kernels: move a run of elements within one array at memory speed.

Numba has no ``memmove``; an element-by-element loop over overlapping ranges cannot be
vectorised (the compiler cannot prove the ranges do not overlap), so moving the rows of the case
table that way ran at about a byte per nanosecond. This intrinsic emits LLVM's ``memmove``, which
handles overlap and is cached with the kernels that call it (a ``ctypes`` call would not be).
"""

from __future__ import annotations

from typing import Any

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def memmove(typingctx: Any, arr: Any, dst: Any, src: Any, count: Any) -> Any:  # pragma: no cover - compiled
    """``arr[dst:dst + count] = arr[src:src + count]`` for a C-contiguous 1-D ``arr``, overlap
    allowed (indices in elements; no bounds check: the caller keeps them inside ``arr``)."""
    if not (isinstance(arr, types.Array) and arr.ndim == 1 and arr.layout == "C"):
        return None
    sig = types.void(arr, types.intp, types.intp, types.intp)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        a = context.make_array(signature.args[0])(context, builder, args[0])
        size = context.get_abi_sizeof(context.get_data_type(signature.args[0].dtype))
        base = builder.bitcast(a.data, cgutils.voidptr_t)
        step = context.get_constant(types.intp, size)
        to = builder.gep(base, [builder.mul(args[1], step)])
        frm = builder.gep(base, [builder.mul(args[2], step)])
        cgutils.raw_memmove(builder, to, frm, args[3], size)
        return context.get_dummy_value()

    return sig, codegen
