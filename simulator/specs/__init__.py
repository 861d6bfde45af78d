"""Hardware specs: systolic accelerators (``accelerator``), Timeloop-style memory hierarchies
(``hierarchy``, ``hierarchy_loader``) and FPGA boards (``platform``), their YAML loaders and the
presets shipped in ``presets/``. Imports only ``workloads`` (errors, YAML loading)."""
