"""The simulator: one sub-package per concept.

``specs/`` hardware specs and presets · ``systolic/`` analytical and cycle-level systolic model ·
``scalesim/`` SCALE-Sim compatibility · ``event/`` event fidelity · ``streaming/`` DAM-style
streaming engine · ``tiers/`` memory-tier studies · ``fpga/`` layer-pipelined FPGA model ·
``result.py`` the ``SimResult`` every fidelity returns. Each sub-package's docstring ends with
what it may import (``tests/test_import_direction.py`` holds it true).

May import: ``dataflows``, ``workloads``.
"""
