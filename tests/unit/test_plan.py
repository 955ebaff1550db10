"""The offline memory plan: never overlaps live tensors, and reaches the lower bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from microforge.lower.memory_plan import ALIGN, MemoryPlan, plan_memory
from microforge.model import ModelInfo, OperatorInfo, Quantization, TensorInfo, read_model
from support import EXAMPLES, shared_model
from support.zoo import ZOO as ZOO_MODELS
from support.zoo import select


def _check_no_overlap(plan: MemoryPlan) -> None:
    """No two live tensors share bytes, except the aliases the plan records on purpose."""
    ps = plan.placements
    for t, root in plan.aliases.items():
        assert root not in plan.aliases  # groups are flat: every alias names its root
        assert plan.offsets[t] == plan.offsets[root]
    for i, a in enumerate(ps):
        assert a.offset % ALIGN == 0
        assert a.offset + a.size <= plan.activation_bytes
        for b in ps[i + 1:]:
            if plan.same_buffer(a.tensor, b.tensor):
                continue
            live_together = a.first <= b.last and b.first <= a.last
            disjoint = a.offset + a.size <= b.offset or b.offset + b.size <= a.offset
            assert not live_together or disjoint, (a, b)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.tflite")), ids=lambda p: p.stem)
def test_own_models(path: Path) -> None:
    model = read_model(path)
    plan = plan_memory(model)
    _check_no_overlap(plan)
    assert plan.activation_bytes >= plan.lower_bound
    for t in model.tensors:
        assert (plan.offsets[t.index] >= 0) == (not t.constant)


# (model, TFLM's non-persistent arena measured with its Python interpreter, ../shared/docs/anchors.md)
ZOO = [(z.rel, z.tflm_head) for z in ZOO_MODELS if z.tflm_head is not None]


@pytest.mark.shared_models
@pytest.mark.parametrize("rel,tflm_head", ZOO, ids=[z[0].split("/")[-1] for z in ZOO])
def test_zoo_plan_beats_tflm(rel: str, tflm_head: int) -> None:
    plan = plan_memory(read_model(shared_model(rel)))
    _check_no_overlap(plan)
    assert plan.activation_bytes <= tflm_head
    assert plan.activation_bytes <= plan.lower_bound * 1.02


def _check_aliases_safe(model: ModelInfo, plan: MemoryPlan) -> None:
    """Every alias group: one dtype and size, no graph input in it, and each member is born at
    the operator where the group's previous members die (nothing reads the old contents later)."""
    groups: dict[int, list[int]] = {}
    for t, root in plan.aliases.items():
        groups.setdefault(root, [root]).append(t)
    life = {p.tensor: (p.first, p.last) for p in plan.placements}
    for members in groups.values():
        assert not set(members) & set(model.inputs)
        assert len({(model.tensors[t].dtype, model.tensors[t].nbytes) for t in members}) == 1
        members.sort(key=lambda t: life[t][0])
        for prev, nxt in zip(members, members[1:], strict=False):
            assert life[prev][1] == life[nxt][0], (prev, nxt)


ALIAS_ZOO = [z.rel for z in select("alias")]  # ... -> RESHAPE -> FC -> SOFTMAX (KWS), ADD in place (IC)


@pytest.mark.shared_models
@pytest.mark.parametrize("rel", ALIAS_ZOO, ids=[z.split("/")[-1] for z in ALIAS_ZOO])
def test_aliasing_never_costs_bytes(rel: str) -> None:
    model = read_model(shared_model(rel))
    with_alias, without = plan_memory(model), plan_memory(model, alias=False)
    assert with_alias.aliases, "the model has a RESHAPE / element-wise op whose input dies there"
    assert not without.aliases
    _check_no_overlap(with_alias)
    _check_no_overlap(without)
    _check_aliases_safe(model, with_alias)
    assert with_alias.activation_bytes <= without.activation_bytes
    assert with_alias.lower_bound <= without.lower_bound


def _chain_model(ops: list[tuple[str, tuple[int, ...], tuple[int, ...]]], shapes: list[tuple[int, ...]],
                 inputs: list[int], outputs: list[int], constants: frozenset[int] = frozenset()) -> ModelInfo:
    tensors = [TensorInfo(i, f"t{i}", s, "int8", i + 1, i in constants, Quantization((0.1,), (0,)))
               for i, s in enumerate(shapes)]
    operators = [OperatorInfo(i, name, 0, 1, ins, outs) for i, (name, ins, outs) in enumerate(ops)]
    return ModelInfo(Path("chain.tflite"), b"", 3, "", tensors, operators, inputs, outputs)


def test_aliasing_saves_bytes_on_a_chain() -> None:
    # in -FC-> a -RESHAPE-> b -RELU-> c -FC-> out: a, b and c can share one buffer
    model = _chain_model(
        [("FULLY_CONNECTED", (0, 5), (1,)), ("RESHAPE", (1,), (2,)), ("RELU", (2,), (3,)),
         ("FULLY_CONNECTED", (3, 5), (4,))],
        [(1, 64), (1, 4000), (1, 40, 100), (1, 40, 100), (1, 16), (4000, 64)],
        inputs=[0], outputs=[4], constants=frozenset({5}))
    with_alias, without = plan_memory(model), plan_memory(model, alias=False)
    assert with_alias.aliases == {2: 1, 3: 1}
    _check_no_overlap(with_alias)
    _check_aliases_safe(model, with_alias)
    assert without.activation_bytes == 4000 * 2  # a and b live together at the RESHAPE
    assert with_alias.activation_bytes == 4000 + 64
    assert with_alias.lower_bound == with_alias.activation_bytes


def test_no_aliasing_when_unsafe() -> None:
    # a is read again after the RESHAPE and the RELU reads a graph input: no aliases at all
    model = _chain_model(
        [("RESHAPE", (0,), (1,)), ("RELU", (1,), (2,)), ("ADD", (2, 1), (3,)), ("MUL", (3, 4), (5,))],
        [(1, 4000), (40, 100), (40, 100), (40, 100), (1, 100), (40, 100)],
        inputs=[0, 4], outputs=[5])
    plan = plan_memory(model)
    # t1 (RESHAPE of the graph input) may not take t0's bytes; t2 may not overwrite t1 (read by
    # the ADD); the ADD may write over t2 (dies there); the MUL broadcasts t4 and overwrites t3
    assert 1 not in plan.aliases and 2 not in plan.aliases
    assert plan.aliases == {3: 2, 5: 2}
    _check_no_overlap(plan)
    _check_aliases_safe(model, plan)
