"""Event fidelity: DMA engines, compute arrays and shared tier links at fold granularity, as graphs
of the streaming engine (``simulator.streaming.net``).

May import: ``simulator.specs``, ``simulator.streaming`` (the engine), ``simulator.systolic`` (fold
schedules), ``simulator.fpga`` (the pipeline of a heterogeneous system), ``simulator.tiers`` (weight
placement), ``simulator.result``, ``dataflows``, ``workloads``."""

from acceldse.simulator.event.table import EVENT_COLUMNS, EventRun, event_run, event_table

__all__ = ["EVENT_COLUMNS", "EventRun", "event_run", "event_table"]
