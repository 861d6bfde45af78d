"""SCALE-Sim topology CSVs: load (conv and GEMM forms) and export.

Conv form, one layer per row after a header line (SCALE-Sim always skips the first line)::

    name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,

Output rows follow SCALE-Sim: P = ceil((H - R + s) / s) = ceil((H - R) / s) + 1, which is one
more than an unpadded conv's floor((H - R) / s) + 1 when s does not divide H - R (ResNet-18's
Conv1, 224 x 224, 7 x 7, stride 2, gives 110 x 110, not 109). Such a row loads with bottom/right
padding ``(-(H - R)) mod s`` so that the Layer's geometry gives SCALE-Sim's P. An optional
column after the stride is SCALE-Sim's per-layer N:M weight sparsity ratio (``2:4``), loaded as
``Layer.weight_sparsity``; any further column is refused (nothing is parsed and dropped). Blank
rows are skipped. A layer name that repeats an earlier row's is kept as its own layer (SCALE-Sim runs
every row and reports layers by index) under a new name ``<name>_2``, ``_3``, ... and one warning
lists every such renaming. A row whose name
contains ``DP`` is depthwise in SCALE-Sim (it is split into one single-channel layer per input
channel, each with ``Num Filter`` filters); it loads here as a grouped conv with G = Channels,
C = 1, K = Num Filter per group, the same work.

GEMM form ``name, M, N, K,`` (SCALE-Sim ``-i gemm``) loads as ``gemm`` layers: M x K times K x N,
again with an optional N:M column after K.
The form is taken from the header (``M, N, K`` columns) unless forced with ``gemm=``.

Export (``to_scalesim_csv``) writes only layers with MACs (SCALE-Sim has no pooling or
elementwise layers). In the conv form, the IFMAP size written is the first of H, H + top +
bottom padding, or (P - 1) * s + R for which SCALE-Sim's formula gives the layer's P (so output
size and MACs are kept and a loaded file round-trips exactly); a depthwise conv (one input
channel per group) becomes one ``DP`` row; any other grouped conv becomes G rows
``<name>_g<i>``; a gemm/matmul becomes a 1x1 conv with H = M, W = 1, C = K (matmul: one row
per group). Dilation, unequal strides and a conv batch > 1 cannot be written in the conv form
(use ``form="gemm"``). The GEMM form writes each layer's per-group GEMM view
(M = N*P*Q, N = K, K = C*R*S), one row per group.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Literal

from acceldse.workloads.errors import SpecError
from acceldse.workloads.layer import Layer, parse_nm
from acceldse.workloads.layer import gemm as gemm_layer
from acceldse.workloads.network import Network

CONV_COLUMNS: tuple[str, ...] = ("Layer name", "IFMAP Height", "IFMAP Width", "Filter Height", "Filter Width",
                                 "Channels", "Num Filter", "Strides")
GEMM_COLUMNS: tuple[str, ...] = ("Layer", "M", "N", "K")
MAX_VALUE = 2**31 - 1
"""Largest dimension accepted from a CSV (keeps every product inside int64 arithmetic)."""

_INT = re.compile(r"^[0-9]+$")


# ---- shipped topologies ----------------------------------------------------------------------

def _data_dir() -> Path:
    return Path(__file__).parent / "data" / "scalesim"  # the package's files (importlib.resources: a cost)


def list_scalesim_topologies() -> list[str]:
    """Names of the SCALE-Sim topology CSVs shipped in ``workloads/data/scalesim`` (file stems)."""
    return sorted(p.stem for p in _data_dir().glob("*.csv"))


def scalesim_topology_path(name: str) -> Path:
    """Path of the shipped topology ``name`` (case-insensitive stem, e.g. ``Resnet18``)."""
    for stem in list_scalesim_topologies():
        if stem.lower() == str(name).lower().removesuffix(".csv"):
            return _data_dir() / f"{stem}.csv"
    raise SpecError("unknown SCALE-Sim topology", source="scalesim", key="name", value=name,
                    accepted=", ".join(list_scalesim_topologies()))


# ---- loading ---------------------------------------------------------------------------------

def _read_lines(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror or exc}", source=str(path)) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError("not a UTF-8 text file", source=str(path), key=f"byte {exc.start}",
                        accepted="a SCALE-Sim topology CSV") from None
    if "\x00" in text:
        raise SpecError("not a text file (contains NUL bytes)", source=str(path), accepted="a SCALE-Sim topology CSV")
    return text.splitlines()


def _detect_gemm(header: list[str], rows: list[list[str]]) -> bool:
    names = [h.strip().lower() for h in header]
    if names[1:4] == ["m", "n", "k"]:
        return True
    if len(names) > 1 and ("ifmap" in names[1] or len([n for n in names if n]) >= 8):
        return False
    return bool(rows) and len([f for f in rows[0] if f.strip()]) <= 4


def _value(source: str, line: int, column: int, name: str, text: str) -> int:
    key = f"line {line}, column {column + 1} ({name})"
    raw = text.strip()
    if not _INT.match(raw):
        accepted = "a positive integer" if raw[:1] != "-" else "an integer >= 1"
        raise SpecError("not a positive integer", source=source, key=key, value=raw, accepted=accepted)
    value = int(raw)
    if not 1 <= value <= MAX_VALUE:
        raise SpecError("out of range", source=source, key=key, value=raw, accepted=f"an integer in [1, {MAX_VALUE}]")
    return value


def _conv_row(source: str, line: int, name: str, fields: list[str]) -> Layer:
    h, w, r, s, c, n, stride = (_value(source, line, i, CONV_COLUMNS[i], fields[i]) for i in range(1, 8))
    for col, (filt, size) in ((3, (r, h)), (4, (s, w))):
        if filt > size:
            raise SpecError("filter larger than its input", source=source,
                            key=f"line {line}, column {col + 1} ({CONV_COLUMNS[col]})", value=filt,
                            accepted=f"at most the IFMAP {'Height' if col == 3 else 'Width'} {size}")
    groups, per_group = (c, 1) if "DP" in name else (1, c)
    pad_bottom, pad_right = -(h - r) % stride, -(w - s) % stride
    return Layer(name=name, op="conv", G=groups, K=n, C=per_group, P=_ceil_div(h - r, stride) + 1,
                 Q=_ceil_div(w - s, stride) + 1, R=r, S=s, H=h, W=w, stride=(stride, stride),
                 padding=(0, 0, pad_bottom, pad_right))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _gemm_row(source: str, line: int, name: str, fields: list[str]) -> Layer:
    m, n, k = (_value(source, line, i, GEMM_COLUMNS[i], fields[i]) for i in range(1, 4))
    return gemm_layer(name, m, n, k)


DERIVED_COLUMNS = {"eh": lambda layer: layer.P, "ew": lambda layer: layer.Q, "e2": lambda layer: layer.P * layer.Q}
"""Output-size columns some SCALE-Sim files carry after the ratio (its Resnet50.csv): checked, not used."""


def _check_extra_columns(source: str, line: int, header: list[str], extra: list[str], first: int,
                         layer: Layer) -> None:
    """Columns after the N:M ratio: empty, or a derived output-size column that agrees with the layer."""
    for i, text in enumerate(extra, start=first):
        if not text.strip():
            continue
        name = header[i].strip() if i < len(header) else ""
        key = f"line {line}, column {i + 1} ({name or 'unnamed'})"
        derived = DERIVED_COLUMNS.get(name.lower())
        if derived is None:
            raise SpecError("unknown column", source=source, key=key, value=text.strip(),
                            accepted="nothing after the N:M sparsity ratio except the output-size columns "
                                     "Eh, Ew, e2")
        if text.strip() != str(derived(layer)):
            raise SpecError(f"{name} disagrees with the layer", source=source, key=key, value=text.strip(),
                            accepted=str(derived(layer)))


def _check_header(source: str, first: str) -> None:
    """The first line must be a comma-separated header: SCALE-Sim skips it, so a first layer there is lost."""
    if "," not in first:
        sep = next((s for s in (";", "\t", "|") if s in first), None)
        if sep is not None:
            raise SpecError(f"fields are separated by {sep!r}, not commas", source=source, key="line 1",
                            value=first.strip()[:60], accepted="a comma-separated SCALE-Sim topology CSV")
        return
    fields = [f.strip() for f in first.split(",")]
    numbers = [f for f in fields[1:] if f]
    if len(numbers) >= 3 and all(_INT.match(f) for f in numbers):
        raise SpecError("the first line is a layer, not a header (SCALE-Sim skips the first line, so this layer "
                        "would be lost)", source=source, key="line 1", value=first.strip()[:60],
                        accepted="a header line first: " + ", ".join(CONV_COLUMNS) + " (or Layer, M, N, K)")


def load_scalesim_csv(path: str | Path, *, gemm: bool | None = None) -> Network:
    """Load a SCALE-Sim topology CSV as a chain ``Network`` (layers in file order).

    Args:
        path: the CSV file. gemm: force the GEMM (``True``) or conv (``False``) form; ``None``
            detects it from the header.
    Raises:
        SpecError: unreadable file, no layers, too few columns, a non-integer, zero or negative
            value, or a filter larger than its input; the message names the file, line and column.
    """
    path = Path(path)
    source = str(path)
    lines = _read_lines(path)
    if not lines:
        raise SpecError("empty topology file", source=source, accepted="a header line and one row per layer")
    _check_header(source, lines[0])
    header = lines[0].split(",")
    rows = [(i + 2, row.split(",")) for i, row in enumerate(lines[1:])]
    rows = [(line, fields) for line, fields in rows if any(f.strip() for f in fields)]
    is_gemm = _detect_gemm(header, [f for _, f in rows]) if gemm is None else bool(gemm)
    columns = GEMM_COLUMNS if is_gemm else CONV_COLUMNS
    layers: list[Layer] = []
    seen: dict[str, int] = {}
    renamed: list[str] = []
    for line, fields in rows:
        filled = len(fields)
        while filled and not fields[filled - 1].strip():
            filled -= 1
        if filled < len(columns):
            raise SpecError(f"too few columns ({filled})", source=source, key=f"line {line}",
                            value=",".join(fields).strip(),
                            accepted=f"{len(columns)} columns: {', '.join(columns)}, then optionally the "
                                     "layer's N:M sparsity ratio (e.g. 2:4)")
        name = fields[0].strip() or f"layer_line{line}"
        unique, k = name, 2
        while unique in seen:
            unique, k = f"{name}_{k}", k + 1
        if unique != name:
            renamed.append(f"line {line} {name!r} (as on line {seen[name]}) -> {unique!r}")
        seen[unique] = line
        try:
            layer = (_gemm_row if is_gemm else _conv_row)(source, line, unique, fields)
        except SpecError as err:  # the layer's own checks (too large) name the file and line too
            if err.source == source:
                raise
            where = ", ".join(filter(None, [f"line {line}", err.source, err.key]))
            raise SpecError(err.message, source=source, key=where, value=err.value, accepted=err.accepted) from None
        if filled > len(columns) and fields[len(columns)].strip():
            ratio = parse_nm(fields[len(columns)], source=source,
                             key=f"line {line}, column {len(columns) + 1} (N:M sparsity)")
            layer = replace(layer, weight_sparsity=ratio)
        _check_extra_columns(source, line, header, fields[len(columns) + 1:filled], len(columns) + 1, layer)
        layers.append(layer)
    if not layers:
        raise SpecError("no layers in topology file", source=source,
                        accepted="a header line and one row per layer: " + ", ".join(columns))
    if renamed:
        # SCALE-Sim 3.0.0 runs every row, duplicates included, and reports layers by index (LayerID):
        # keep each row as its own layer, but a network's layer names are unique, so say how they were renamed.
        warnings.warn(f"{source}: {len(renamed)} repeated layer name(s) renamed (SCALE-Sim runs every row and "
                      f"reports them by index; acceldse names each layer once): " + "; ".join(renamed),
                      stacklevel=2)
    return Network(name=path.stem, layers=tuple(layers), source=source)


# ---- export ----------------------------------------------------------------------------------

def _clean(name: str) -> str:
    return re.sub(r"[,\r\n]", "_", name).strip() or "layer"


def _conv_rows(layer: Layer, source: str) -> list[tuple[str, int, int, int, int, int, int, int]]:
    name = _clean(layer.name)
    if layer.op in ("gemm", "matmul"):
        m = layer.N * layer.P * layer.Q
        base = name.replace("DP", "Dp")
        return [(f"{base}_g{g}" if layer.G > 1 else base, m, 1, 1, 1, layer.C, layer.K, 1) for g in range(layer.G)]
    where = f"layer {layer.name!r}"
    if layer.N != 1:
        raise SpecError("SCALE-Sim's conv form has no batch", source=where, key="N", value=layer.N,
                        accepted="batch 1, or form='gemm' (M includes the batch)")
    if layer.dilation != (1, 1):
        raise SpecError("SCALE-Sim's conv form has no dilation", source=where, key="dilation", value=layer.dilation,
                        accepted="dilation (1, 1), or form='gemm'")
    if layer.stride[0] != layer.stride[1]:
        raise SpecError("SCALE-Sim's conv form has one stride for rows and columns", source=where, key="stride",
                        value=layer.stride, accepted="equal strides, or form='gemm'")
    stride = layer.stride[0]

    def extent(size: int, padded: int, kernel: int, out: int) -> int:
        for candidate in (size, padded, (out - 1) * stride + kernel):
            if candidate >= kernel and _ceil_div(candidate - kernel, stride) + 1 == out:
                return candidate
        raise SpecError("no SCALE-Sim input size gives this output size", source=where, key="P,Q", value=out)

    h = extent(layer.H, layer.padded_input[0], layer.R, layer.P)
    w = extent(layer.W, layer.padded_input[1], layer.S, layer.Q)
    if layer.G > 1 and layer.C == 1:
        dp = name if "DP" in name else f"{name}_DP"
        return [(dp, h, w, layer.R, layer.S, layer.G, layer.K, layer.stride[0])]
    base = name.replace("DP", "Dp")
    return [(f"{base}_g{g}" if layer.G > 1 else base, h, w, layer.R, layer.S, layer.C, layer.K, layer.stride[0])
            for g in range(layer.G)]


def to_scalesim_csv(network: Network, path: str | Path, form: Literal["conv", "gemm"] = "conv") -> int:
    """Write the layers of ``network`` that have MACs as a SCALE-Sim topology CSV.

    Returns the number of rows written. See the module docstring for how grouped convs,
    padding and gemm/matmul layers are written in each form.
    """
    if form not in ("conv", "gemm"):
        raise SpecError("unknown SCALE-Sim CSV form", source="to_scalesim_csv", key="form", value=form,
                        accepted="conv | gemm")
    lines: list[str] = []
    for layer in network.layers:
        if not layer.has_weights:
            continue
        ratio = "" if layer.weight_sparsity == (1, 1) else "{}:{},".format(*layer.weight_sparsity)
        if form == "gemm":
            m, n, k = layer.gemm
            name = _clean(layer.name)
            lines += [f"{name}_g{g},{m},{n},{k},{ratio}" if layer.G > 1 else f"{name},{m},{n},{k},{ratio}"
                      for g in range(layer.G)]
        else:
            lines += [",".join(str(v) for v in row) + "," + ratio for row in _conv_rows(layer, network.source)]
    if not lines:
        raise SpecError("network has no layers with MACs to export", source=network.source or network.name,
                        accepted="at least one conv, gemm or matmul layer")
    header = ", ".join(GEMM_COLUMNS if form == "gemm" else CONV_COLUMNS) + ","
    Path(path).write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return len(lines)
