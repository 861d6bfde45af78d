"""Memory-level helpers of the batched kernels: array views without reference counting, prefetching.

Every array a numba kernel binds to a new name (an argument of an inlined helper, a view) costs an
atomic increment and decrement of its owner's reference count; in the batched cost kernel those
were about a quarter of the time per mapping. ``unowned(a)`` is ``a`` with no owner: the same data,
shape and strides, whose reference counting is a test of a null pointer. The caller keeps the owner
alive for as long as the view is used (the batched kernel's owners live in the frame that calls the
loop over mappings). ``prefetch`` asks for a cache line ahead of its use: a batch larger than the
caches streams from memory, and the next mapping's rows arrive while this one is evaluated.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def unowned(typingctx, arr):  # type: ignore[no-untyped-def]
    """``arr`` without its owner (its meminfo and parent object null): reference counting it is free."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        view = context.make_array(arr)(context, builder, value=args[0])
        view.meminfo = cgutils.get_null_value(view.meminfo.type)
        view.parent = cgutils.get_null_value(view.parent.type)
        return view._getvalue()

    return arr(arr), codegen


@intrinsic
def prefetch(typingctx, arr, offset):  # type: ignore[no-untyped-def]
    """Ask the CPU to fetch the cache line ``offset`` bytes into ``arr``'s data (no fault past its end)."""
    if not isinstance(arr, types.Array) or not isinstance(offset, types.Integer):
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        view = context.make_array(arr)(context, builder, value=args[0])
        byte = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [byte, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [builder.gep(builder.bitcast(view.data, byte), [args[1]]), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.none(arr, offset), codegen
