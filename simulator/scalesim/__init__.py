"""SCALE-Sim 3.0.0 compatibility: CALC-mode (``calc``, ``calc_kernels``, ``buffers``) and USER-mode
(``user``, ``user_kernels``) per-layer figures, and the per-network table in acceldse's columns
(``table``). SCALE-Sim ``.cfg`` files are read by ``simulator.specs.scalesim_cfg`` (a hardware spec
format like the YAML ones).

May import: ``simulator.specs``, ``simulator.systolic``, ``dataflows``, ``workloads``; never
``simulator.event`` or the other fidelities."""
