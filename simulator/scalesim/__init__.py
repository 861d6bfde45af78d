"""SCALE-Sim 3.0.0 compatibility: ``.cfg`` loading (``cfg``), CALC-mode (``calc``, ``calc_kernels``,
``buffers``) and USER-mode (``user``, ``user_kernels``) per-layer figures, and the per-network
table in acceldse's columns (``table``). Imports ``simulator.specs`` and ``simulator.systolic``."""
