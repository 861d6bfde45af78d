"""Event fidelity: SimPy DMA engines, compute arrays and shared tier links at fold granularity.

May import: ``simulator.specs``, ``simulator.systolic`` (fold schedules), ``simulator.tiers``
(weight placement), ``simulator.result``, ``dataflows``, ``workloads``."""

from acceldse.simulator.event.table import EVENT_COLUMNS, EventRun, event_run, event_table

__all__ = ["EVENT_COLUMNS", "EventRun", "event_run", "event_table"]
