"""Memory-tier studies: tensor placement over tiers (``placement``), composition-of-experts
model switching (``switching``) and operator fusion (``fusion``).

May import: ``simulator.specs``, ``workloads``."""
