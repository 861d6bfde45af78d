"""Event-level stage pipeline (the streaming engine, bounded FIFOs) against the analytical model."""

import pytest

from acceldse.mapper.fpga import optimise
from acceldse.simulator.fpga.pipeline_sim import partition_network, simulate_pipeline
from acceldse.workloads.errors import DeadlockError, SpecError
from acceldse.workloads.layer import conv2d, gemm
from acceldse.workloads.network import Network
from acceldse.workloads.zoo.small import lenet, mlp, residual_block, vgg_small


@pytest.mark.parametrize("make,platform", [(lenet, "zc706"), (vgg_small, "zcu102"), (residual_block, "zcu102"),
                                           (mlp, "zc706")])
def test_event_matches_analytical_within_one_percent(make, platform) -> None:  # type: ignore[no-untyped-def]
    net = make()
    res = optimise(net, platform, batch=64)
    for names, part in zip(res.partitions, res.report.partitions):
        sim = simulate_pipeline(partition_network(net, names), res.foldings, samples=10)
        assert sim.analytical_interval_cycles * 64 == part.interval_cycles
        assert sim.relative_error < 0.01


def test_first_sample_latency_is_bounded_by_stage_sum() -> None:
    net = lenet()
    sim = simulate_pipeline(net, {}, samples=4)
    from acceldse.simulator.fpga import Folding, stage_cost
    total = sum(stage_cost(layer, Folding()).cycles_per_sample for layer in net)
    assert sim.analytical_interval_cycles <= sim.finish_cycles[0] <= total


def _burst_chain() -> Network:
    # a conv (the bottleneck, 8 rows/sample) feeding an FC that reads a whole sample then computes
    return Network("burst", (conv2d("c", 4, 8, 8, 3, padding=1, bits=16), gemm("fc", 1, 32, 512, bits=16)))


def test_shallow_fifo_shows_stalls_and_lower_throughput() -> None:
    net = _burst_chain()
    deep = simulate_pipeline(net, samples=12, fifo_rows=8)
    shallow = simulate_pipeline(net, samples=12, fifo_rows=1)
    assert deep.relative_error < 1e-9 and deep.stall_cycles["c"] == 0
    assert shallow.stall_cycles["c"] > 0
    assert shallow.interval_cycles > 1.5 * shallow.analytical_interval_cycles
    depths = [simulate_pipeline(net, samples=12, fifo_rows=d).interval_cycles for d in (1, 2, 4, 8)]
    assert depths == sorted(depths, reverse=True)


def test_residual_skip_fifo_too_shallow_deadlocks() -> None:
    with pytest.raises(DeadlockError, match="stem->add"):
        simulate_pipeline(residual_block(), {}, samples=4, fifo_rows={("stem", "add"): 1})
    ok = simulate_pipeline(residual_block(), {}, samples=4, fifo_rows={("stem", "add"): 3})
    assert ok.samples == 4


def test_bad_arguments() -> None:
    with pytest.raises(SpecError):
        simulate_pipeline(lenet(), samples=1)
    with pytest.raises(SpecError):
        simulate_pipeline(lenet(), fifo_rows=0)
