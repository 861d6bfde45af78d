"""Numba kernels compiled on first need: ``@kernel`` in place of ``@njit(cache=True)``.

Importing numba and loading its cached machine code costs about a CPU-second per process, more than
the analytical model of a whole network on one design takes in plain Python (about 0.3 ms a layer).
So the kernels of ``kernels`` and ``layer_kernels`` are ``Kernel`` objects: called from Python they run
numba's compiled code (compiling, or loading numba's on-disk cache, on first use), except inside
``interpreted()``, where a small job (one design's table: ``batch.lowered_counts``) runs the same source
as plain Python and numba is never imported (``worth_interpreting``: until a process has run
``INTERPRETED_PAIRS`` of them). Both give identical numbers (a test holds them equal).

``compile_kernels()`` makes every kernel a numba dispatcher and puts the dispatchers in place of the
``Kernel`` objects in the globals of every loaded ``acceldse`` module, so compiled callers (other
kernels, other packages' numba code) see numba functions.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_KERNELS: list[Kernel] = []
_state = {"compiled": False, "interpreted": 0, "pairs": 0}
INTERPRETED_PAIRS = 2_000
"""Most (design, layer) pairs a process runs as plain Python before it loads numba (about 0.3 ms a
pair as Python, against about a CPU-second to load numba's compiled kernels)."""


class Kernel:
    """A numba kernel not compiled yet: ``py_func`` is its Python source, ``dispatcher`` numba's."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.py_func = func
        self.dispatcher: Any = None
        self.__name__ = func.__name__
        self.__qualname__ = func.__qualname__
        self.__doc__ = func.__doc__
        self.__module__ = func.__module__
        self.__wrapped__ = func
        _KERNELS.append(self)

    def __call__(self, *args: Any) -> Any:
        if self.dispatcher is not None:
            return self.dispatcher(*args)
        if _state["interpreted"]:
            return self.py_func(*args)
        compile_kernels()
        dispatcher: Any = self.dispatcher
        return dispatcher(*args)

    def __repr__(self) -> str:
        return f"<kernel {self.__module__}.{self.__qualname__}>"


def kernel(func: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True)``, compiled on first need (module docstring)."""
    return Kernel(func)


def compile_kernels() -> None:
    """Make every kernel a numba dispatcher (numba compiles or loads each one from its cache on its
    first call) and replace the ``Kernel`` objects in loaded ``acceldse`` modules by them."""
    _state["compiled"] = True
    new = [k for k in _KERNELS if k.dispatcher is None]
    if not new:
        return
    from numba import njit

    for k in new:
        k.dispatcher = njit(cache=True)(k.py_func)
    for name, module in list(sys.modules.items()):
        if name.startswith("acceldse.") and module is not None:
            space = vars(module)
            for attr, value in list(space.items()):
                if isinstance(value, Kernel):
                    space[attr] = value.dispatcher


def compiled() -> bool:
    """Whether ``compile_kernels`` has run in this process."""
    return bool(_state["compiled"])


def worth_interpreting(pairs: int) -> bool:
    """Whether ``pairs`` more (design, layer) pairs should run as plain Python: numba is not loaded and
    the process stays within ``INTERPRETED_PAIRS`` (a sweep of many small batches loads numba early)."""
    if _state["compiled"] or _state["pairs"] + pairs > INTERPRETED_PAIRS:
        return False
    _state["pairs"] += pairs
    return True


@contextmanager
def interpreted() -> Iterator[None]:
    """Kernels called inside run as plain Python unless they are compiled already."""
    _state["interpreted"] += 1
    try:
        yield
    finally:
        _state["interpreted"] -= 1


__all__ = ["INTERPRETED_PAIRS", "Kernel", "compile_kernels", "compiled", "interpreted", "kernel",
           "worth_interpreting"]
