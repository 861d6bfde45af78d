"""Extended Einsums and cascades: a DAG of Einsums that share tensors (data, like a ``Network``).

An *extended Einsum* (TeAAL / FuseMax) computes one output tensor from input tensors over named
ranks: the point-wise ``compute`` operators are applied at every point of its iteration space and
the ranks the output does not index are folded by ``reduce`` (``sum``, ``max`` or ``none``)::

    QK[b,h,m,p]  = sum_e  Q[b,h,e,p] * K[b,h,e,m]          compute [mul], reduce sum
    GM[b,h,p]    = max_m  QK[b,h,m,p]                       compute [],    reduce max
    SN[b,h,m,p]  = exp(QK[b,h,m,p] - GM[b,h,p])             compute [sub, exp]

Index forms (all lower-case rank variables, rank names upper-case):

* ``m1`` - iterate rank ``M1``;
* ``m1+1`` on the output - a *recurrence* (online softmax's running max ``RM[m1+1] = max(RM[m1],
  LM[m1])``): the output is one longer along ``M1`` and may read its own previous element;
* ``M1`` (the rank's name, upper case) on an input - *take* the last element along that rank (the
  final value of a recurrence, ``AV[f,p] = RNV[M1,f,p] / RD[M1,p]``); the rank is not iterated.

A cascade has rank sizes (``ranks``), its Einsums, and the tensors it reads (no producer) and
writes (no consumer). ``Cascade.validate`` refuses a cycle, a tensor with two producers, a tensor
indexed by different ranks, and ranks whose sizes disagree, with one ``SpecError`` line naming the
file and key. YAML form (``load_cascade``)::

    version: 1
    name: attention-3pass
    ranks: {B: 64, H: 12, E: 64, F: 64, M: 1024, P: 1024}
    einsums:
      - {name: QK, output: "QK[b,h,m,p]", inputs: ["Q[b,h,e,p]", "K[b,h,e,m]"], compute: [mul], reduce: sum}
      - ...

Pass analysis (``passes``): how many sweeps over a streamed rank (the keys ``M``) the cascade
forces: an Einsum that iterates the rank and consumes a result reduced over the *whole* rank must
wait for the previous sweep to end (3-pass: max, then exp/sum, then divide / x V; 1-pass: none).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from acceldse.workloads.errors import SpecError, require_int
from acceldse.workloads.spec_io import load_yaml, reject_unknown

OPERATORS: tuple[str, ...] = ("mul", "add", "sub", "div", "max", "exp", "copy")
"""Point-wise operators an Einsum may apply (``copy``: a plain move, no arithmetic)."""
REDUCTIONS: tuple[str, ...] = ("sum", "max", "none")

_REF = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\[([^\]]*)\]\s*$")
_INDEX = re.compile(r"^([a-z][a-z0-9_]*)(\+1)?$|^([A-Z][A-Z0-9_]*)$")


@dataclass(frozen=True)
class Index:
    """One index of a tensor reference: ``rank`` (upper case), ``shift`` (1 for ``m1+1``), ``take``
    (True for ``M1``: the last element)."""

    rank: str
    shift: int = 0
    take: bool = False

    def __str__(self) -> str:
        return self.rank if self.take else self.rank.lower() + ("+1" if self.shift else "")


@dataclass(frozen=True)
class TensorRef:
    """``name[indices]`` as written in an Einsum."""

    tensor: str
    indices: tuple[Index, ...]

    @cached_property
    def ranks(self) -> tuple[str, ...]:
        return tuple(i.rank for i in self.indices)

    @cached_property
    def iterated(self) -> tuple[str, ...]:
        """Ranks this reference iterates (not the taken ones)."""
        return tuple(i.rank for i in self.indices if not i.take)

    def __str__(self) -> str:
        return f"{self.tensor}[{','.join(str(i) for i in self.indices)}]"

    @classmethod
    def parse(cls, text: Any, *, source: str | None, key: str) -> TensorRef:
        match = _REF.match(str(text)) if isinstance(text, str) else None
        if match is None:
            raise SpecError("not a tensor reference", source=source, key=key, value=text,
                            accepted="NAME[r1,r2,...] with lower-case rank variables, e.g. 'QK[b,h,m,p]'")
        indices = []
        for tok in (t.strip() for t in match.group(2).split(",")) if match.group(2).strip() else ():
            im = _INDEX.match(tok)
            if im is None:
                raise SpecError("bad index", source=source, key=key, value=tok,
                                accepted="a rank variable (m), a recurrence (m1+1) or a taken rank (M1)")
            if im.group(3):
                indices.append(Index(im.group(3), take=True))
            else:
                indices.append(Index(im.group(1).upper(), shift=1 if im.group(2) else 0))
        if len({i.rank for i in indices}) != len(indices):
            raise SpecError("a rank indexes the tensor twice", source=source, key=key, value=text)
        return cls(match.group(1), tuple(indices))


@dataclass(frozen=True)
class Einsum:
    """One extended Einsum (module docstring). ``ranks`` are optional per-Einsum rank sizes that must
    agree with the cascade's."""

    name: str
    output: TensorRef
    inputs: tuple[TensorRef, ...]
    compute: tuple[str, ...] = ("mul",)
    reduce: str = "sum"
    ranks: dict[str, int] = field(default_factory=dict)

    @cached_property
    def iteration_ranks(self) -> tuple[str, ...]:
        """Ranks of the iteration space: every iterated rank of the output and the inputs, in order."""
        seen: dict[str, None] = {}
        for ref in (self.output, *self.inputs):
            for r in ref.iterated:
                seen.setdefault(r)
        return tuple(seen)

    @cached_property
    def tensors(self) -> tuple[str, ...]:
        """The output's tensor, then the inputs' (in order, repeats kept)."""
        return (self.output.tensor, *(r.tensor for r in self.inputs))

    @cached_property
    def reduced_ranks(self) -> tuple[str, ...]:
        out = set(self.output.iterated)
        return tuple(r for r in self.iteration_ranks if r not in out)

    @property
    def recurrent_rank(self) -> str | None:
        """The rank of an ``m1+1`` recurrence on the output, if any."""
        return next((i.rank for i in self.output.indices if i.shift), None)

    def point_ops(self) -> tuple[str, ...]:
        """Operators applied per point: ``mac`` for a multiply folded by a sum, else the compute
        operators followed by the reduction's (``add`` for sum, ``max``)."""
        return self._point_ops

    @cached_property
    def _point_ops(self) -> tuple[str, ...]:
        ops = list(self.compute)
        if self.reduced_ranks and self.reduce != "none":
            if ops and ops[-1] == "mul" and self.reduce == "sum":
                ops[-1] = "mac"
            else:
                ops.append("add" if self.reduce == "sum" else "max")
        return tuple(ops)

    def __str__(self) -> str:
        red = f" {self.reduce}_{{{','.join(r.lower() for r in self.reduced_ranks)}}}" if self.reduced_ranks else ""
        return f"{self.output} ={red} {'.'.join(self.compute) or 'copy'}({', '.join(map(str, self.inputs))})"


@dataclass(frozen=True)
class Cascade:
    """A DAG of Einsums sharing tensors; ``ranks`` maps each rank name to its size."""

    name: str
    ranks: dict[str, int]
    einsums: tuple[Einsum, ...]
    source: str = "cascade"

    def __iter__(self) -> Iterator[Einsum]:
        return iter(self.einsums)

    def __len__(self) -> int:
        return len(self.einsums)

    @cached_property
    def _by_name(self) -> dict[str, Einsum]:
        return {e.name: e for e in self.einsums}

    def einsum(self, name: str) -> Einsum:
        e = self._by_name.get(name)
        if e is not None:
            return e
        raise SpecError("no such Einsum", source=self.source, key="einsums", value=name,
                        accepted=", ".join(e.name for e in self.einsums))

    @cached_property
    def producers(self) -> dict[str, str]:
        """Tensor -> the Einsum writing it."""
        return {e.output.tensor: e.name for e in self.einsums}

    @cached_property
    def consumers(self) -> dict[str, tuple[str, ...]]:
        """Tensor -> the Einsums reading it (a recurrence's read of its own output is not listed)."""
        out: dict[str, list[str]] = {}
        for e in self.einsums:
            for ref in e.inputs:
                if ref.tensor == e.output.tensor:
                    continue
                out.setdefault(ref.tensor, [])
                if e.name not in out[ref.tensor]:
                    out[ref.tensor].append(e.name)
        return {k: tuple(v) for k, v in out.items()}

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """Tensors read and never written (the cascade's inputs, in DRAM)."""
        return tuple(t for t in self.consumers if t not in self.producers)

    @cached_property
    def outputs(self) -> tuple[str, ...]:
        """Tensors written and never read by another Einsum (the cascade's results, to DRAM)."""
        return tuple(t for t in self.producers if t not in self.consumers)

    @cached_property
    def intermediates(self) -> tuple[str, ...]:
        return tuple(t for t in self.producers if t in self.consumers)

    @cached_property
    def _memo(self) -> dict[tuple[str, str], Any]:
        return {}

    def tensor_ranks(self, tensor: str) -> tuple[Index, ...]:
        """The indices a tensor is stored with (its producer's output reference, else its first read)."""
        hit = self._memo.get(("ranks", tensor))
        if hit is None:
            hit = self._memo[("ranks", tensor)] = self._tensor_ranks(tensor)
        return hit

    def _tensor_ranks(self, tensor: str) -> tuple[Index, ...]:
        if tensor in self.producers:
            return self.einsum(self.producers[tensor]).output.indices
        for e in self.einsums:
            for ref in e.inputs:
                if ref.tensor == tensor:
                    return ref.indices
        raise SpecError("no such tensor", source=self.source, key="tensors", value=tensor)

    def tensor_words(self, tensor: str) -> int:
        """Elements of a tensor (a recurrence output has one more element along its rank)."""
        hit = self._memo.get(("words", tensor))
        if hit is not None:
            return int(hit)
        words = 1
        for idx in self.tensor_ranks(tensor):
            words *= self.ranks[idx.rank] + idx.shift
        self._memo[("words", tensor)] = words
        return words

    def points(self, einsum: Einsum) -> int:
        """Points of an Einsum's iteration space."""
        hit = self._memo.get(("points", einsum.name))
        if hit is not None:
            return int(hit)
        n = 1
        for r in einsum.iteration_ranks:
            n *= self.ranks[r]
        self._memo[("points", einsum.name)] = n
        return n

    def carried(self, ref: TensorRef) -> bool:
        """True when ``ref`` reads the previous iteration of a recurrence (``RD[m1]`` of an Einsum that
        writes ``RD[m1+1]``): a loop-carried dependence, not an edge of the DAG."""
        prod = self.producers.get(ref.tensor)
        if prod is None:
            return False
        rank = self.einsum(prod).recurrent_rank
        return rank is not None and any(i.rank == rank and not i.shift and not i.take for i in ref.indices)

    def dependencies(self, einsum: Einsum) -> tuple[str, ...]:
        """Einsums whose output ``einsum`` reads in the same iteration (loop-carried reads excluded)."""
        deps: dict[str, None] = {}
        for r in einsum.inputs:
            prod = self.producers.get(r.tensor)
            if prod is not None and prod != einsum.name and not self.carried(r):
                deps.setdefault(prod)
        return tuple(deps)

    def order(self) -> tuple[Einsum, ...]:
        """The Einsums in a dependency order (producers first)."""
        done: set[str] = set()
        out: list[Einsum] = []
        pending = list(self.einsums)
        while pending:
            progressed = False
            for e in list(pending):
                deps = set(self.dependencies(e))
                if deps <= done:
                    out.append(e)
                    done.add(e.name)
                    pending.remove(e)
                    progressed = True
            if not progressed:
                raise SpecError("the Einsums form a cycle", source=self.source, key="einsums",
                                value=" -> ".join(e.name for e in pending),
                                accepted="a DAG (an Einsum may read its own output only as a recurrence m+1)")
        return tuple(out)

    def validate(self) -> Cascade:
        """Refuse what is not a cascade (module docstring); returns ``self``."""
        src = self.source
        if not self.einsums:
            raise SpecError("a cascade needs at least one Einsum", source=src, key="einsums", value=[])
        names = [e.name for e in self.einsums]
        for i, e in enumerate(self.einsums):
            key = f"einsums[{i}]"
            if names.count(e.name) > 1:
                raise SpecError("two Einsums have the same name", source=src, key=f"{key}.name", value=e.name)
            for op in e.compute:
                if op not in OPERATORS:
                    raise SpecError("unknown operator", source=src, key=f"{key}.compute", value=op,
                                    accepted=", ".join(OPERATORS))
            if e.reduce not in REDUCTIONS:
                raise SpecError("unknown reduction", source=src, key=f"{key}.reduce", value=e.reduce,
                                accepted=", ".join(REDUCTIONS))
            if any(i.take for i in e.output.indices):
                raise SpecError("an output cannot take a last element", source=src, key=f"{key}.output",
                                value=str(e.output), accepted="rank variables (m) or one recurrence (m1+1)")
            if sum(1 for i in e.output.indices if i.shift) > 1:
                raise SpecError("at most one recurrence rank per output", source=src, key=f"{key}.output",
                                value=str(e.output))
            for ref in (e.output, *e.inputs):
                for r in ref.ranks:
                    if r not in self.ranks:
                        raise SpecError("rank has no size", source=src, key=f"{key}: {ref}", value=r,
                                        accepted="a rank of 'ranks': " + ", ".join(self.ranks))
            for r, size in e.ranks.items():
                if r in self.ranks and self.ranks[r] != size:
                    raise SpecError(f"rank {r} disagrees in size: {size} here, {self.ranks[r]} in the cascade",
                                    source=src, key=f"{key}.ranks.{r}", value=size, accepted=str(self.ranks[r]))
            self_reads = [ref for ref in e.inputs if ref.tensor == e.output.tensor]
            if self_reads and e.recurrent_rank is None:
                raise SpecError("the Einsum reads its own output (a cycle)", source=src, key=f"{key}.inputs",
                                value=str(self_reads[0]), accepted="a recurrence: write X[m+1] and read X[m]")
        producers: dict[str, str] = {}
        for i, e in enumerate(self.einsums):
            t = e.output.tensor
            if t in producers:
                raise SpecError(f"tensor {t} has two producers ({producers[t]} and {e.name})", source=src,
                                key=f"einsums[{i}].output", value=str(e.output), accepted="one producer per tensor")
            producers[t] = e.name
        stored: dict[str, tuple[str, ...]] = {}
        for i, e in enumerate(self.einsums):
            for ref in (e.output, *e.inputs):
                have = stored.setdefault(ref.tensor, ref.ranks)
                if have != ref.ranks:
                    raise SpecError(f"tensor {ref.tensor} is indexed by different ranks "
                                    f"({','.join(have)} and {','.join(ref.ranks)})", source=src,
                                    key=f"einsums[{i}] ({e.name})", value=str(ref))
        self.order()
        return self

    def passes(self, rank: str) -> dict[str, int]:
        """Pass index (0-based) of every Einsum over ``rank`` (module docstring); the cascade makes
        ``max(...) + 1`` passes over it."""
        if rank not in self.ranks:
            raise SpecError("no such rank", source=self.source, key="rank", value=rank,
                            accepted=", ".join(self.ranks))
        out: dict[str, int] = {}
        for e in self.order():
            p = 0
            for prod in self.dependencies(e):
                src = self.einsum(prod)
                full = rank in src.reduced_ranks and rank in e.iteration_ranks
                p = max(p, out[prod] + (1 if full else 0))
            out[e.name] = p
        return out

    def num_passes(self, rank: str) -> int:
        return max(self.passes(rank).values()) + 1

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "name": self.name, "ranks": dict(self.ranks), "einsums": [
            {"name": e.name, "output": str(e.output), "inputs": [str(r) for r in e.inputs],
             "compute": list(e.compute), "reduce": e.reduce} for e in self.einsums]}

    def with_ranks(self, **sizes: int) -> Cascade:
        """The same cascade with some rank sizes changed."""
        return Cascade(self.name, {**self.ranks, **sizes}, self.einsums, self.source).validate()


_EINSUM_KEYS = {"name", "output", "inputs", "compute", "reduce", "ranks"}


def einsum_from_dict(raw: Any, *, source: str | None, key: str) -> Einsum:
    if not isinstance(raw, dict):
        raise SpecError("an Einsum must be a mapping", source=source, key=key, value=raw,
                        accepted="{name, output, inputs, compute, reduce}")
    reject_unknown(raw, _EINSUM_KEYS, source=source or "cascade", prefix=f"{key}.")
    for k in ("name", "output", "inputs"):
        if k not in raw:
            raise SpecError(f"missing key '{k}'", source=source, key=key, accepted=", ".join(sorted(_EINSUM_KEYS)))
    inputs = raw["inputs"]
    if not isinstance(inputs, list) or not inputs:
        raise SpecError("inputs must be a non-empty list", source=source, key=f"{key}.inputs", value=inputs)
    compute = raw.get("compute", ["mul"] if len(inputs) == 2 else [])
    if isinstance(compute, str):
        compute = [compute]
    ranks = raw.get("ranks", {}) or {}
    if not isinstance(ranks, dict):
        raise SpecError("ranks must be a mapping", source=source, key=f"{key}.ranks", value=ranks)
    output = TensorRef.parse(raw["output"], source=source, key=f"{key}.output")
    refs = tuple(TensorRef.parse(t, source=source, key=f"{key}.inputs[{j}]") for j, t in enumerate(inputs))
    default_reduce = "sum"
    return Einsum(str(raw["name"]), output, refs, tuple(str(c) for c in compute),
                  str(raw.get("reduce", default_reduce)),
                  {str(r): require_int(v, key=f"{key}.ranks.{r}", source=source) for r, v in ranks.items()})


def cascade_from_dict(raw: Any, *, source: str = "cascade") -> Cascade:
    if not isinstance(raw, dict):
        raise SpecError("a cascade must be a mapping", source=source, value=type(raw).__name__,
                        accepted="{version, name, ranks, einsums}")
    reject_unknown(raw, {"version", "name", "ranks", "einsums", "hardware", "mapping"}, source=source)
    if "einsums" not in raw or "ranks" not in raw:
        raise SpecError("missing key 'einsums' or 'ranks'", source=source, key="cascade",
                        accepted="version, name, ranks, einsums")
    ranks_raw = raw["ranks"]
    if not isinstance(ranks_raw, dict):
        raise SpecError("ranks must be a mapping of rank name to size", source=source, key="ranks", value=ranks_raw)
    ranks = {str(r): require_int(v, key=f"ranks.{r}", source=source) for r, v in ranks_raw.items()}
    for r in ranks:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", r):
            raise SpecError("rank names are upper case", source=source, key=f"ranks.{r}", value=r,
                            accepted="e.g. M, P, M1")
    items = raw["einsums"]
    if not isinstance(items, list):
        raise SpecError("einsums must be a list", source=source, key="einsums", value=items)
    einsums = tuple(einsum_from_dict(e, source=source, key=f"einsums[{i}]") for i, e in enumerate(items))
    return Cascade(str(raw.get("name", Path(source).stem)), ranks, einsums, source).validate()


def load_cascade(path: str | Path) -> Cascade:
    """Read a cascade YAML file (module docstring)."""
    return cascade_from_dict(load_yaml(path, kind="cascade"), source=str(path))
