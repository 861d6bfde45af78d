"""Memory-tier studies: tensor placement over tiers (``placement``), composition-of-experts
model switching (``switching``) and operator fusion (``fusion``). Imports ``simulator.specs``."""
