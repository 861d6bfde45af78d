"""Run ZigZag's LOMA on ResNet-18 and report temporal mappings evaluated per CPU-second (JSON on stdout).

Runs under the separate ZigZag venv (``/work/zigzag-venv/bin/python``); ``bench_mapper.py``
calls it. Every ``CostModelEvaluation`` constructed is one evaluated mapping.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    """CPU seconds of this process and any worker processes it waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    hardware = sys.argv[1] if len(sys.argv) > 1 else "tpu_like"
    import zigzag
    from zigzag.api import get_hardware_performance_zigzag
    from zigzag.cost_model import cost_model

    root = Path(zigzag.__file__).parent / "inputs"
    count = {"n": 0}
    original = cost_model.CostModelEvaluation.__init__

    def counting_init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        count["n"] += 1
        original(self, *args, **kwargs)

    cost_model.CostModelEvaluation.__init__ = counting_init
    import zigzag.stages.evaluation.cost_model_evaluation as cme_stage

    cme_stage.CostModelEvaluation.__init__ = counting_init
    with tempfile.TemporaryDirectory() as tmp:
        start = _cpu()
        wall = time.perf_counter()
        logging.disable(logging.CRITICAL)
        get_hardware_performance_zigzag(str(root / "workload" / "resnet18.onnx"),
                                        str(root / "hardware" / f"{hardware}.yaml"),
                                        str(root / "mapping" / f"{hardware}.yaml"), opt="latency",
                                        dump_folder=tmp, loma_show_progress_bar=False)
        cpu = _cpu() - start
        wall = time.perf_counter() - wall
    print(json.dumps({"hardware": hardware, "evaluations": count["n"], "cpu_s": cpu, "wall_s": wall,
                      "pid": os.getpid()}))


if __name__ == "__main__":
    main()
