"""Hardware specs: systolic accelerators (``accelerator``, and SCALE-Sim ``.cfg`` files through
``scalesim_cfg``), Timeloop-style memory hierarchies (``hierarchy``, ``hierarchy_loader``) and FPGA
boards (``platform``), their YAML loaders, the presets shipped in ``presets/`` and the one catalogue
of every preset (``catalogue``).

May import: ``workloads`` (errors, YAML loading), ``dataflows`` (dataflow names); no other
``simulator`` sub-package."""
