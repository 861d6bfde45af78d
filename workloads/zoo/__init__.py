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
from acceldse.workloads.zoo.small import cnv, lenet, mlp, residual_block, tfc, vgg_small, vgg_tiny
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
    "tfc": tfc,
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
    for key, value in params.items():
        if key not in accepted:
            raise SpecError("unknown parameter", source=f"zoo:{name}", key=key, value=value,
                            accepted=", ".join(accepted) or "no parameters")
        check_not_text(value, key=key, source=f"zoo:{name}", default=accepted[key])
    return builder(**params)


def check_not_text(value: Any, *, key: str, source: str, default: Any) -> None:
    """A number parameter given as a string (``batch="2"`` from Python) is refused, never read as a number:
    the CLI and spec files parse their numbers before they get here."""
    if isinstance(value, str) and isinstance(default, int | float) and not isinstance(default, bool):
        kind = "an integer" if isinstance(default, int) else "a number"
        try:
            float(value)
            why = f"must be {kind}, not a string"  # batch="2" from Python
        except ValueError:
            why = f"must be {kind}"  # --param batch=2x
        raise SpecError(why, source=source, key=key, value=value, accepted=f"{kind} (e.g. {default!r})")


__all__ = ["ZOO", "Builder", "build", "describe", "describe_rows", "list_workloads", "parameters"]
