"""Run SAMO 0.2.4 (fpgaConvNet backend, rule optimiser) on a small network -- inside SAMO's own venv.

Usage (from the samo venv, never imported by acceldse):
    PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python /work/samo-venv/bin/python benchmarks/samo_runner.py SPEC.json

SPEC.json: {"network": [layer, ...], "platform": {...}, "batch": 256, "optimiser": "rule", "seed": 0}
with layers {"op": "conv", "out": 20, "k": 5, "stride": 1, "pad": 0} | {"op": "pool", "k": 2}
| {"op": "relu"} | {"op": "fc", "out": 500}, the first layer carrying "input": [C, H, W].
Prints one JSON line: per-layer folding, cycles and resources, per-partition latency and resources,
run time, and SAMO's exported fpgaConvNet partition JSON (``fpgaconvnet_json``).
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def build_onnx(layers, path):
    c, h, w = layers[0]["input"]
    nodes, inits = [], []
    cur = "input"
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, c, h, w])
    flat = False
    rng = np.random.default_rng(0)
    for i, spec in enumerate(layers):
        out = f"t{i}x"  # fpgaConvNet strips trailing "0" and ":" from names
        op = spec["op"]
        if op == "conv":
            k, s, p = spec["k"], spec.get("stride", 1), spec.get("pad", 0)
            wname = f"w{i}x"
            inits.append(numpy_helper.from_array(rng.standard_normal((spec["out"], c, k, k)).astype(np.float32), wname))
            bname = f"b{i}x"
            inits.append(numpy_helper.from_array(np.zeros(spec["out"], np.float32), bname))
            nodes.append(helper.make_node("Conv", [cur, wname, bname], [out], name=f"conv{i}", kernel_shape=[k, k],
                                          strides=[s, s], pads=[p, p, p, p]))
            c, h, w = spec["out"], (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif op == "pool":
            k = spec["k"]
            nodes.append(helper.make_node("MaxPool", [cur], [out], name=f"pool{i}", kernel_shape=[k, k],
                                          strides=[k, k]))
            h, w = h // k, w // k
        elif op == "relu":
            nodes.append(helper.make_node("Relu", [cur], [out], name=f"relu{i}"))
        elif op == "fc":
            if not flat:
                fl = f"f{i}x"
                nodes.append(helper.make_node("Flatten", [cur], [fl], name=f"flatten{i}", axis=1))
                cur, flat = fl, True
            wname, bname = f"w{i}x", f"b{i}x"
            weight = rng.standard_normal((spec["out"], c * h * w)).astype(np.float32)
            inits.append(numpy_helper.from_array(weight, wname))
            inits.append(numpy_helper.from_array(np.zeros(spec["out"], np.float32), bname))
            nodes.append(helper.make_node("Gemm", [cur, wname, bname], [out], name=f"fc{i}", transB=1))
            c, h, w = spec["out"], 1, 1
        cur = out
    y = helper.make_tensor_value_info(cur, TensorProto.FLOAT, [1, c] if flat else [1, c, h, w])
    graph = helper.make_graph(nodes, "net", [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    onnx.save(model, path)


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    tmp = tempfile.mkdtemp()
    onnx_path = os.path.join(tmp, "net.onnx")
    build_onnx(spec["network"], onnx_path)
    plat_path = os.path.join(tmp, "platform.json")
    with open(plat_path, "w") as f:
        json.dump(spec["platform"], f)
    import samo.model.partition as part
    from samo.cli import main as samo_main
    captured = {}
    real_summary = part.Partition.summary

    def grab(self):
        captured.setdefault("partitions", []).append({
            "latency": int(self.eval_latency()), "resources": self.eval_resource(),
            "layers": [{"name": n, "coarse_in": self.nodes[n]["hw"].channel_in_folding,
                        "coarse_out": self.nodes[n]["hw"].channel_out_folding,
                        "fine": getattr(self.nodes[n]["hw"], "kernel_folding", 1),
                        "cycles": int(self.nodes[n]["hw"].latency()),
                        "dsp": int(self.nodes[n]["hw"].resource()["DSP"]),
                        "resources": {k: int(v) for k, v in self.nodes[n]["hw"].resource().items()}}
                       for n in self.nodes]})
        return None
    part.Partition.summary = grab
    out_path = os.path.join(tmp, "out.json")
    start = time.perf_counter()
    buf = io.StringIO()
    os.chdir(tmp)
    with contextlib.redirect_stdout(buf):
        samo_main(["-m", onnx_path, "-b", "fpgaconvnet", "-p", plat_path, "-o", out_path,
                   "--optimiser", spec.get("optimiser", "rule"), "--objective", "throughput",
                   "--batch-size", str(spec.get("batch", 256)), "--seed", str(spec.get("seed", 0))])
    runtime = time.perf_counter() - start
    part.Partition.summary = real_summary
    exported = None
    if os.path.exists(out_path):  # SAMO's own export: fpgaConvNet's partition JSON
        with open(out_path) as f:
            exported = json.load(f)
    print(json.dumps({"runtime_s": runtime, **captured, "fpgaconvnet_json": exported}))


if __name__ == "__main__":
    main()
