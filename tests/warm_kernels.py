"""Compile every numba kernel once, into numba's on-disk cache (``acceldse.kernel_cache``), before the suite runs.

``make test`` runs this beside ruff and mypy (``python -m tests.warm_kernels``), and pytest starts when it is
done: the kernels are compiled once, on two processes, instead of by every pytest worker, notebook
kernel and CLI subprocess that meets one before the cache holds it (each compiling the same kernel again on a
machine already busy with the others). Each step is a small real call of the path that compiles a group of
kernels (the same argument types the tests pass); ``CHAINS`` are the steps of each process. A step that fails is
reported and skipped: the tests then compile that kernel themselves and say what is wrong. ``-v`` prints the CPU
seconds of each step; ``--serial`` runs every step in this process.
"""

from __future__ import annotations

import contextlib
import sys
import time
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor


def _mapper_search() -> None:
    """The dense cost kernel of a batch (``cost_kernel.evaluate_batch``) and the decoder: every search."""
    import numpy as np

    from acceldse.mapper.search.evaluator import Evaluator
    from acceldse.mapper.space import MappingSpace
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.workloads.layer import conv2d

    space = MappingSpace(conv2d("c", 16, 16, 14, 3, padding=1), load_hierarchy("eyeriss_like"))
    Evaluator(space)(space.random(8, np.random.default_rng(0)))


def _mapper_cost() -> None:
    """The dense cost kernel of one mapping (``cost_kernel.evaluate_one``): every result's cost."""
    import numpy as np

    from acceldse.mapper.cost import evaluate
    from acceldse.mapper.mapping import Mapping
    from acceldse.mapper.space import MappingSpace
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.workloads.errors import SpecError
    from acceldse.workloads.layer import conv2d

    layer, hierarchy = conv2d("c", 16, 16, 14, 3, padding=1), load_hierarchy("eyeriss_like")
    space = MappingSpace(layer, hierarchy)
    mapping = Mapping.from_arrays(space.decode(space.random(1, np.random.default_rng(0))).take(0), hierarchy)
    with contextlib.suppress(SpecError):  # an illegal draw: the kernel is compiled all the same
        evaluate(layer, hierarchy, mapping)  # a Mapping's arrays (writable), as every caller passes them


def _mapper() -> None:
    import acceldse
    from acceldse.workloads.layer import conv2d

    acceldse.map(conv2d("c", 16, 16, 14, 3, padding=1), "eyeriss_like", budget=200, seed=1)


def _sparse() -> None:
    """Sparseloop's batched analysis on acceldse's hierarchies (``dense_counts_batch``, ``kernel.score_batch``)."""
    import numpy as np

    from acceldse.mapper.space import MappingSpace
    from acceldse.mapper.sparse.batched import native
    from acceldse.simulator.specs.hierarchy_loader import load_hierarchy
    from acceldse.validation.silicon import eyeriss_sparse_features
    from acceldse.workloads.layer import conv2d

    layer = conv2d("conv2", 16, 16, 14, 3, padding=1, bits=16)
    chip = load_hierarchy("eyeriss-v1")  # always_keeps relaxed: random mappings legal often enough to score
    hierarchy = chip.replace(levels={lv.name: {"always_keeps": []} for lv in chip.levels if lv.always_keeps})
    model = native(layer, hierarchy, **eyeriss_sparse_features(layer))
    space = MappingSpace(layer, model.relaxed, "rs")
    model.evaluate_many(space.decode(space.random(8, np.random.default_rng(0))))


def _systolic() -> None:
    import acceldse
    from acceldse.simulator.systolic.jit import compile_kernels

    compile_kernels()  # one design's table would run as plain Python: compile the kernels the sweeps use
    acceldse.simulate("alexnet", "scalesim-32x32", "all")
    acceldse.simulate("alexnet", "tpu-hbm-like", "all")  # several cores


def _event() -> None:
    import acceldse

    acceldse.simulate("lenet", "scalesim-32x32", "all", fidelity="event")


def _cycle() -> None:
    import acceldse
    from acceldse.workloads.layer import conv2d, gemm
    from acceldse.workloads.network import Network

    net = Network("warm", (conv2d("c", 4, 8, 8, 3, padding=1), gemm("g", 16, 16, 16)))
    acceldse.simulate(net, "edge-8x8", "all", fidelity="cycle")


def _scalesim() -> None:
    import acceldse
    from acceldse.simulator.scalesim.calc import scalesim_gemm

    acceldse.simulate("lenet", "scalesim-32x32", "all", compat="scalesim")
    scalesim_gemm(16, 16, 16, array_rows=8, array_cols=8, ifmap_sram_kb=1, filter_sram_kb=1, ofmap_sram_kb=1,
                  dataflow="ws", bandwidth_mode="USER", ifmap_dram_bw_words=10, filter_dram_bw_words=10,
                  ofmap_dram_bw_words=1)


def _streaming() -> None:
    """The streaming engine on a cycle-level (int64) net: streamed graphs, SDPA, FIFO depths, traces."""
    import tempfile
    from pathlib import Path

    from acceldse.simulator.streaming import run_sdpa

    with tempfile.TemporaryDirectory() as tmp:
        run_sdpa("reordered", 8, 2, fifo_depth=4, values=False, trace_path=Path(tmp) / "trace.json")


def _pipeline() -> None:
    """The streaming engine on a time-valued (float64) net: FPGA stage pipelines, their stalls and traces."""
    from acceldse.simulator.fpga.pipeline_sim import simulate_pipeline
    from acceldse.workloads.zoo.small import lenet

    simulate_pipeline(lenet(), samples=2, trace=True)


def _fpga() -> None:
    import acceldse

    acceldse.optimise_fpga(acceldse.load_workload("lenet"), "zc706", batch=16)


def _env() -> None:
    import gymnasium as gym

    import acceldse  # noqa: F401 - registers the environments

    for env_id, kwargs in (("acceldse/AcceleratorDesign-v0", {}),
                           ("acceldse/Mapping-v0", {"workload": "lenet", "hardware": "simple_ws_32x32"})):
        env = gym.make(env_id, **kwargs)
        env.reset(seed=0)
        env.step(env.action_space.sample())
    vec = gym.make_vec("acceldse/AcceleratorDesign-v0", num_envs=2, vectorization_mode="vector_entry_point",
                       workload="alexnet")  # the batched step's kernels (envs.vector_step)
    vec.reset(seed=0)
    vec.step(vec.action_space.sample())


CHAINS: tuple[tuple[tuple[str, Callable[[], None]], ...], ...] = (
    (("mapper_cost", _mapper_cost), ("sparse", _sparse), ("scalesim", _scalesim)),
    (("mapper_search", _mapper_search), ("systolic", _systolic), ("streaming", _streaming), ("pipeline", _pipeline),
     ("event", _event), ("cycle", _cycle), ("env", _env), ("mapper", _mapper), ("fpga", _fpga)),
)
"""The steps of each process, in turn: about as many CPU seconds each (cold: ~135), and a step after the one
that compiles what it calls (``sparse`` calls ``evaluate_one``; ``env`` and ``mapper`` the dense cost kernels,
``event`` and ``env`` the systolic ones), so no kernel is compiled by both processes."""
STEPS = dict(step for chain in CHAINS for step in chain)


def run_chain(names: list[str]) -> list[tuple[str, float, str]]:
    """Run the steps ``names`` in turn: (name, CPU seconds, the error's traceback or "") of each."""
    out = []
    for name in names:
        start = time.process_time()
        try:
            STEPS[name]()
        except Exception:  # noqa: BLE001 - the tests report it properly; warming only saves time
            out.append((name, time.process_time() - start, traceback.format_exc(limit=2)))
        else:
            out.append((name, time.process_time() - start, ""))
    return out


def report(results: Iterable[tuple[str, float, str]], verbose: bool) -> None:
    for name, seconds, error in results:
        if error:
            print(f"warm_kernels: {name} failed (the tests will compile it):\n{error}", file=sys.stderr)
        elif verbose:
            print(f"warm_kernels: {name} {seconds:.1f} CPU-s", file=sys.stderr)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    start = time.perf_counter()
    chains = [[name for name, _ in chain] for chain in CHAINS]
    if "--serial" in argv:
        report(run_chain([name for chain in chains for name in chain]), verbose)
    else:
        with ProcessPoolExecutor(max_workers=len(chains)) as pool:
            for results in pool.map(run_chain, chains):
                report(results, verbose)
    if verbose:
        print(f"warm_kernels: {time.perf_counter() - start:.1f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
