"""Offline memory plan: where every activation tensor lives in the arena, decided at build time.

Lifetimes run over operator indices: a tensor is born at the operator that writes it (model
inputs at -1) and dies after its last reader (model outputs live to the end). Tensors whose
lifetimes overlap never share bytes. Placement is greedy by size, first fit into the lowest gap,
which reaches the peak-live lower bound on chain-shaped models.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import ModelInfo

ALIGN = 16


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
    lower_bound: int  # peak of simultaneously live (aligned) bytes


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


def plan_memory(model: ModelInfo) -> MemoryPlan:
    """Try a few greedy orders and keep the smallest plan (all are cheap at build time)."""
    life = lifetimes(model)
    size = {t: _align(max(model.tensors[t].nbytes, 1)) for t in life}
    orders = [
        sorted(life, key=lambda t: (-size[t], life[t][0], t)),
        sorted(life, key=lambda t: (-(life[t][1] - life[t][0]), -size[t], t)),
        sorted(life, key=lambda t: (-size[t] * (life[t][1] - life[t][0] + 1), t)),
        sorted(life, key=lambda t: (life[t][0], -size[t], t)),
    ]
    plans = [_first_fit(model, life, size, order) for order in orders]
    return min(plans, key=lambda p: p.activation_bytes)


def _first_fit(
    model: ModelInfo, life: dict[int, tuple[int, int]], sizes: dict[int, int], order: list[int]
) -> MemoryPlan:
    placed: list[Placement] = []
    for t in order:
        size = sizes[t]
        first, last = life[t]
        busy = sorted(
            (p.offset, p.offset + p.size) for p in placed if p.first <= last and first <= p.last
        )
        offset = 0
        for start, end in busy:
            if offset + size <= start:
                break
            offset = max(offset, end)
        placed.append(Placement(t, offset, size, first, last))
    offsets = [-1] * len(model.tensors)
    for p in placed:
        offsets[p.tensor] = p.offset
    total = max((p.offset + p.size for p in placed), default=0)
    steps = range(-1, len(model.operators) + 1)
    bound = max(
        (sum(p.size for p in placed if p.first <= s <= p.last) for s in steps), default=0
    )
    return MemoryPlan(offsets, sorted(placed, key=lambda p: p.tensor), total, bound)
