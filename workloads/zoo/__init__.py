"""The model zoo: published networks with exact shapes, built by name with validated parameters.

    >>> from workloads.zoo import build, list_workloads
    >>> build("resnet50").macs
    4089184256
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from acceldse.workloads.errors import SpecError
from acceldse.workloads.network import Network
from acceldse.workloads.zoo.cnn import alexnet, vgg16
from acceldse.workloads.zoo.mobilenet import mobilenet_v1, mobilenet_v2
from acceldse.workloads.zoo.resnet import resnet18, resnet50
from acceldse.workloads.zoo.small import cnv, lenet, mlp, residual_block, vgg_small, vgg_tiny
from acceldse.workloads.zoo.transformers import bert_base, gpt2_decode, gpt2_prefill, vit_b16

if TYPE_CHECKING:
    import pandas as pd

Builder = Callable[..., Network]

ZOO: dict[str, Builder] = {
    "alexnet": alexnet,
    "vgg16": vgg16,
    "resnet18": resnet18,
    "resnet50": resnet50,
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
    "vit_b16": vit_b16,
    "bert_base": bert_base,
    "gpt2_prefill": gpt2_prefill,
    "gpt2_decode": gpt2_decode,
    "lenet": lenet,
    "cnv": cnv,
    "vgg_small": vgg_small,
    "vgg_tiny": vgg_tiny,
    "mlp": mlp,
    "residual_block": residual_block,
}
"""Zoo name -> builder taking keyword-only parameters."""


def list_workloads() -> list[str]:
    """Names of the zoo networks, in registry order."""
    return list(ZOO)


def parameters(name: str) -> dict[str, Any]:
    """The keyword parameters of zoo network ``name`` with their defaults."""
    builder = _lookup(name)
    return {p.name: p.default for p in inspect.signature(builder).parameters.values()}


def _lookup(name: str) -> Builder:
    if not isinstance(name, str) or name.lower() not in ZOO:
        raise SpecError("unknown zoo workload", source="zoo", key="name", value=name,
                        accepted=", ".join(ZOO))
    return ZOO[name.lower()]


def describe_rows() -> list[dict[str, Any]]:
    """One row per zoo network at its defaults: ``workload``, ``layers``, ``macs``, ``weights``
    (conv + FC weight elements; matmul operands are activations) and ``parameters`` (defaults)."""
    rows = []
    for name in ZOO:
        net = build(name)
        rows.append({"workload": name, "layers": len(net), "macs": net.macs,
                     "weights": sum(layer.weight_elems for layer in net if layer.op in ("conv", "gemm")),
                     "parameters": ", ".join(f"{k}={v}" for k, v in parameters(name).items())})
    return rows


def describe() -> pd.DataFrame:
    """``describe_rows`` as a DataFrame."""
    import pandas as pd  # here, not at import: the CLI's --help and list stay fast

    return pd.DataFrame(describe_rows())


def build(name: str, **params: Any) -> Network:
    """Build zoo network ``name``; unknown names or parameters and bad values raise ``SpecError``."""
    builder = _lookup(name)
    accepted = parameters(name)
    for key in params:
        if key not in accepted:
            raise SpecError("unknown parameter", source=f"zoo:{name}", key=key, value=params[key],
                            accepted=", ".join(accepted) or "no parameters")
    return builder(**params)


__all__ = ["ZOO", "Builder", "build", "describe", "describe_rows", "list_workloads", "parameters"]
