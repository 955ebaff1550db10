"""Offline memory plan: where every activation tensor lives in the arena, decided at build time.

Lifetimes run over operator indices: a tensor is born at the operator that writes it (model
inputs at -1) and dies after its last reader (model outputs live to the end).

Aliasing: some tensors share their input's bytes instead of getting their own (`MemoryPlan.aliases`,
tensor -> the tensor whose buffer it shares). RESHAPE / SQUEEZE / EXPAND_DIMS outputs share their
input's buffer (the kernel skips the copy when the pointers are equal), and the element-wise
kernels that read each element before writing it (ADD / SUB / MUL on an input of the output's
shape, RELU / RELU6 / LEAKY_RELU / LOGISTIC / TANH / HARD_SWISH, QUANTIZE int8 -> int8) write in
place over an input of the same type and size. Only when that input's buffer dies at the operator
and no tensor sharing it is a graph input or a variable, so no one can observe the overwrite.
A shared buffer (an alias group) lives from its first member's birth to its last member's death.

Buffers whose lifetimes overlap never share bytes. Placement is greedy by size, first fit into
the lowest gap, which reaches the peak-live lower bound on chain-shaped models.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from microforge.model import ModelInfo

ALIGN = 16

# The output is the input's bytes, unchanged.
VIEW_OPS = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
# Kernels checked to read element i of the input before writing element i of the output (and no
# other element after it): arithmetic.cpp (same-shape input only), activations.cpp, logistic.cpp,
# hard_swish.cpp, quantize.cpp (int8 -> int8).
IN_PLACE_OPS = frozenset({"ADD", "SUB", "MUL", "RELU", "RELU6", "LEAKY_RELU", "LOGISTIC", "TANH", "HARD_SWISH",
                          "QUANTIZE"})
_BINARY = frozenset({"ADD", "SUB", "MUL"})


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


@dataclass(frozen=True)
class Placement:
    tensor: int
    offset: int
    size: int  # aligned bytes
    first: int
    last: int


@dataclass(frozen=True)
class MemoryPlan:
    offsets: list[int]  # per tensor; -1 for constants and unused tensors
    placements: list[Placement]
    activation_bytes: int
    lower_bound: int  # peak of simultaneously live (aligned) buffers; an alias group counts once
    # tensor -> the tensor whose bytes it shares on purpose (the group's root; roots are not keys)
    aliases: dict[int, int] = field(default_factory=dict)

    def same_buffer(self, a: int, b: int) -> bool:
        """True when tensors a and b share their bytes by design (an alias group)."""
        return self.aliases.get(a, a) == self.aliases.get(b, b)


def lifetimes(model: ModelInfo) -> dict[int, tuple[int, int]]:
    n_ops = len(model.operators)
    life: dict[int, list[int]] = {}

    def touch(t: int, at: int) -> None:
        if t < 0 or model.tensors[t].constant:
            return
        span = life.setdefault(t, [at, at])
        span[0] = min(span[0], at)
        span[1] = max(span[1], at)

    for t in model.inputs:
        touch(t, -1)
    for op in model.operators:
        for t in (*op.inputs, *op.outputs):
            touch(t, op.index)
    for t in model.outputs:
        touch(t, n_ops)
    return {t: (a, b) for t, (a, b) in life.items()}


def _candidates(model: ModelInfo, op_index: int) -> list[int]:
    """Inputs whose buffer the operator's single output may take over (before the lifetime check)."""
    op = model.operators[op_index]
    if len(op.outputs) != 1 or op.outputs[0] < 0 or not op.inputs:
        return []
    out = model.tensors[op.outputs[0]]
    if op.op in VIEW_OPS:
        ins = list(op.inputs[:1])
    elif op.op in IN_PLACE_OPS:
        ins = list(op.inputs[:2] if op.op in _BINARY else op.inputs[:1])
        if op.op == "QUANTIZE" and out.dtype != "int8":
            return []
    else:
        return []
    keep = []
    for t in ins:
        if t < 0:
            continue
        info = model.tensors[t]
        same = info.dtype == out.dtype and info.nbytes == out.nbytes
        # element-wise in place: the input must have the output's shape (no broadcasting)
        if op.op not in VIEW_OPS:
            same = same and _numel(info.shape) == _numel(out.shape)
        if same and not info.constant and not info.variable:
            keep.append(t)
    return keep


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def find_aliases(model: ModelInfo, life: dict[int, tuple[int, int]]) -> dict[int, int]:
    """tensor -> root of its alias group, for every tensor that shares an earlier tensor's bytes."""
    root: dict[int, int] = {}
    group_last: dict[int, int] = {}  # root -> last use of any member
    graph_inputs = set(model.inputs)
    for op in model.operators:
        for t in _candidates(model, op.index):
            out = op.outputs[0]
            if out not in life or out in root or out in graph_inputs or model.tensors[out].variable:
                break
            r = root.get(t, t)
            if r in graph_inputs or t not in life:
                continue
            if group_last.get(r, life[r][1]) != op.index or life[t][1] != op.index:
                continue  # the buffer is read later: overwriting or sharing it is not safe
            if out in (*op.inputs,):
                break
            root[out] = r
            group_last[r] = life[out][1]
            break
    return root


def plan_memory(model: ModelInfo, alias: bool = True) -> MemoryPlan:
    """Try a few greedy orders and keep the smallest plan (all are cheap at build time)."""
    life = lifetimes(model)
    aliases = find_aliases(model, life) if alias else {}
    # one buffer per alias group, keyed by its root
    span: dict[int, list[int]] = {}
    for t, (first, last) in life.items():
        r = aliases.get(t, t)
        s = span.setdefault(r, [first, last])
        s[0], s[1] = min(s[0], first), max(s[1], last)
    blife = {r: (a, b) for r, (a, b) in span.items()}
    size = {r: _align(max(model.tensors[r].nbytes, 1)) for r in blife}
    orders = [
        sorted(blife, key=lambda t: (-size[t], blife[t][0], t)),
        sorted(blife, key=lambda t: (-(blife[t][1] - blife[t][0]), -size[t], t)),
        sorted(blife, key=lambda t: (-size[t] * (blife[t][1] - blife[t][0] + 1), t)),
        sorted(blife, key=lambda t: (blife[t][0], -size[t], t)),
    ]
    plans = [_first_fit(model, life, blife, size, aliases, order) for order in orders]
    return min(plans, key=lambda p: p.activation_bytes)


def _first_fit(model: ModelInfo, life: dict[int, tuple[int, int]], blife: dict[int, tuple[int, int]],
               sizes: dict[int, int], aliases: dict[int, int], order: list[int]) -> MemoryPlan:
    placed: list[Placement] = []  # one per buffer (alias group)
    for t in order:
        size = sizes[t]
        first, last = blife[t]
        busy = sorted(
            (p.offset, p.offset + p.size) for p in placed if p.first <= last and first <= p.last
        )
        offset = 0
        for start, end in busy:
            if offset + size <= start:
                break
            offset = max(offset, end)
        placed.append(Placement(t, offset, size, first, last))
    where = {p.tensor: p.offset for p in placed}
    offsets = [-1] * len(model.tensors)
    per_tensor = []
    for t, (first, last) in life.items():
        offsets[t] = where[aliases.get(t, t)]
        per_tensor.append(Placement(t, offsets[t], _align(max(model.tensors[t].nbytes, 1)), first, last))
    total = max((p.offset + p.size for p in placed), default=0)
    steps = range(-1, len(model.operators) + 1)
    bound = max(
        (sum(p.size for p in placed if p.first <= s <= p.last) for s in steps), default=0
    )
    return MemoryPlan(offsets, sorted(per_tensor, key=lambda p: p.tensor), total, bound, dict(aliases))
