"""The systolic-array model: the analytical per-fold model, its rules written once as numba kernels
over designs x layers (``kernels``, ``layer_kernels``; compiled on first need, ``jit``) on a typed
hardware record (``hardware``), driven for many designs (``batch``) and for one design's table
(``model``); and the cycle-level model that moves real operands (``cycle``, ``cycle_kernels``).

May import: ``simulator.specs``, ``simulator.result``, ``dataflows``, ``workloads``."""
