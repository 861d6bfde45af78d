"""The systolic-array model: the analytical per-fold model (``model``) and its numba kernels
(``kernels``), the same model batched over many accelerators (``batch``), and the cycle-level
model that moves real operands (``cycle``, ``cycle_kernels``).

May import: ``simulator.specs``, ``simulator.result``, ``dataflows``, ``workloads``."""
