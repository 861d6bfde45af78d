"""Compile every numba kernel once, into numba's on-disk cache (``acceldse.kernel_cache``), before the suite runs.

``make test`` runs this beside ruff and mypy (``python -m tests.warm_kernels``): the kernels compile on the core
that mypy leaves idle, and the two pytest workers then load them from the cache instead of both compiling the
same kernels at their start. Each step is a small real call of the path that compiles a group of kernels (the
same argument types the tests pass). A step that fails is reported and skipped: the tests then compile that
kernel themselves and say what is wrong. ``-v`` prints the seconds of each step.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable


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

    acceldse.simulate("lenet", "scalesim-32x32", "all", compat="scalesim")


def _mapper() -> None:
    import acceldse
    from acceldse.workloads.layer import conv2d

    acceldse.map(conv2d("c", 16, 16, 14, 3, padding=1), "eyeriss_like", budget=200, seed=1)


def _fpga() -> None:
    import acceldse

    acceldse.optimise_fpga(acceldse.load_workload("lenet"), "zc706", batch=16)


def _env() -> None:
    import gymnasium as gym

    import acceldse  # noqa: F401 - registers the environments

    env = gym.make("acceldse/AcceleratorDesign-v0")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    vec = gym.make_vec("acceldse/AcceleratorDesign-v0", num_envs=2, vectorization_mode="vector_entry_point",
                       workload="alexnet")  # the batched step's kernels (envs.vector_step)
    vec.reset(seed=0)
    vec.step(vec.action_space.sample())


STEPS: tuple[tuple[str, Callable[[], None]], ...] = (
    ("systolic", _systolic), ("mapper", _mapper), ("event", _event), ("fpga", _fpga), ("env", _env),
    ("scalesim", _scalesim), ("cycle", _cycle),
)


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    for name, step in STEPS:
        start = time.perf_counter()
        try:
            step()
        except Exception:  # noqa: BLE001 - the tests report it properly; warming only saves time
            print(f"warm_kernels: {name} failed (the tests will compile it):", file=sys.stderr)
            traceback.print_exc(limit=2)
            continue
        if verbose:
            print(f"warm_kernels: {name} {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
