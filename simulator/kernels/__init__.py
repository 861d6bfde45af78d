"""Numba kernels of the simulator package (one module per concern)."""
