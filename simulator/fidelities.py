"""The fidelities of the systolic simulator, in one registry: name -> table function, work unit, default limit.

Read by ``acceldse.simulate``, the ``simulate`` and ``plot`` commands (their ``--fidelity`` and
``--compat`` choices), the sweep spec and the design environments. Importing this module is cheap
(no numba, no pandas): each table function imports its model when it runs.

A table function takes ``(network, accelerator, dataflows, run)`` (``run``: a ``FidelityRun`` with the
work limit, the progress callback, the trace flag and the SCALE-Sim settings) and returns the
per-layer table (``simulator.result.COLUMNS``; a DataFrame or a ``simulator.result.Table``) and extra
entries for ``SimResult.extra``.

May import: every ``simulator`` sub-package (inside the table functions), ``dataflows``, ``workloads``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from acceldse.dataflows.dataflow import Dataflow
    from acceldse.simulator.result import Table as Columns
    from acceldse.simulator.specs.accelerator import Accelerator
    from acceldse.workloads.network import Network


@dataclass(frozen=True)
class FidelityRun:
    """What one run passes to a table function besides the workload, hardware and dataflows."""

    limit: int | None = None
    progress: Callable[[int, int, str], None] | None = None
    trace: bool = False
    settings: Any = None  # the ScaleSimSettings of a SCALE-Sim .cfg (compat mode)


Table = Callable[["Network", "Accelerator", "list[Dataflow]", FidelityRun],
                 "tuple[pd.DataFrame | Columns, dict[str, Any]]"]


@dataclass(frozen=True)
class Fidelity:
    """One way of simulating a network on a systolic accelerator.

    Attributes:
        name: what ``fidelity=`` (or ``compat=``) takes.
        help: one line for the CLI and the docs.
        table: the table function (see the module docstring).
        work_unit: what the work limit counts (``None``: the mode is never limited).
        default_limit: the default work limit (about a minute on one core).
        per_step: fast enough to evaluate a design per environment step.
        traces: records a Perfetto trace when asked.
    """

    name: str
    help: str
    table: Table
    work_unit: str | None = None
    default_limit: int | None = None
    per_step: bool = False
    traces: bool = False


def _analytical(network: Network, acc: Accelerator, flows: list[Dataflow], run: FidelityRun
                ) -> tuple[Columns, dict[str, Any]]:
    from acceldse.simulator.systolic.model import systolic_columns

    return systolic_columns(network, acc, flows), {}


def _event(network: Network, acc: Accelerator, flows: list[Dataflow], run: FidelityRun
           ) -> tuple[Columns, dict[str, Any]]:
    from acceldse.simulator.event.table import event_run

    limit = run.limit
    check = None if limit is None else lambda folds: refuse_work(folds, "event", network.name, limit)
    result = event_run(network, acc, flows, trace=run.trace, progress=run.progress, check_folds=check)
    return result.columns, {} if result.trace is None else {"trace": result.trace}


def _cycle(network: Network, acc: Accelerator, flows: list[Dataflow], run: FidelityRun
           ) -> tuple[pd.DataFrame, dict[str, Any]]:
    from acceldse.simulator.systolic.cycle import cycle_table

    limit = {} if run.limit is None else {"max_pe_cycles": run.limit}
    return cycle_table(network, acc, flows, progress=run.progress, **limit), {}


def _scalesim(network: Network, acc: Accelerator, flows: list[Dataflow], run: FidelityRun
              ) -> tuple[pd.DataFrame, dict[str, Any]]:
    from acceldse.simulator.scalesim.table import scalesim_table
    from acceldse.workloads.errors import SpecError

    if acc.cores != 1:
        raise SpecError("SCALE-Sim models one array", source=acc.source or acc.name, key="cores",
                        value=acc.cores, accepted="cores: 1 with compat='scalesim'")
    if run.limit is not None:
        refuse_work(network.macs * len(flows), "scalesim", network.name, run.limit)
    return scalesim_table(network, acc, flows, run.settings), {}


def refuse_work(work: int, mode: str, workload: str, limit: int) -> None:
    """``SpecError`` naming ``max_work`` when a run of ``work`` (in the mode's ``work_unit``) exceeds ``limit``,
    before it starts."""
    if work > limit:
        from acceldse.workloads.errors import SpecError

        unit = MODES[mode].work_unit
        raise SpecError(f"too much work for {mode} on {workload} ({work:,} {unit} > the limit {limit:,})",
                        source="max_work", value=work,
                        accepted=f"at most {limit:,}; raise the limit, use the analytical model or a smaller workload")


FIDELITIES: dict[str, Fidelity] = {f.name: f for f in (
    Fidelity("analytical", "closed forms per fold (numba); never limited", _analytical, per_step=True),
    Fidelity("event", "DMA engines and arrays on a shared tier link, fold by fold; stall breakdown, multi-core "
             "contention", _event, "folds of the network", 500_000, per_step=True, traces=True),
    Fidelity("cycle", "real operands moved through the array cycle by cycle; compute cycles measured",
             _cycle, "PE-cycles of the largest layer", 500_000_000),
)}
"""The fidelity levels of ``acceldse.simulate(fidelity=...)``, in order."""

COMPAT_MODES: dict[str, Fidelity] = {f.name: f for f in (
    Fidelity("scalesim", "SCALE-Sim 3.0.0's own numbers (CALC mode, or the .cfg's bandwidth mode)", _scalesim,
             "MACs of the network", 100_000_000_000),
)}
"""The peer tools whose numbers ``acceldse.simulate(compat=...)`` reports."""

MODES: dict[str, Fidelity] = {**FIDELITIES, **COMPAT_MODES}
"""Every fidelity and compatibility mode by name."""

WORK_UNITS = {name: f.work_unit for name, f in MODES.items() if f.work_unit}
"""What ``max_work`` counts for each limited mode."""

DEFAULT_MAX_WORK = {name: f.default_limit for name, f in MODES.items() if f.default_limit is not None}
"""The default ``max_work`` of each limited mode."""

__all__ = ["COMPAT_MODES", "DEFAULT_MAX_WORK", "FIDELITIES", "MODES", "WORK_UNITS", "Fidelity", "FidelityRun",
           "refuse_work"]
