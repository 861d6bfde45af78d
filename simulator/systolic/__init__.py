"""The systolic-array model: the analytical per-fold model (``model``) and its numba kernels
(``kernels``), and the cycle-level model that moves real operands (``cycle``, ``cycle_kernels``).

May import: ``simulator.specs``, ``dataflows``, ``workloads``."""
