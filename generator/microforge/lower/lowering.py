"""One model lowered for one set of boards, computed once: the memory plan, each operator's
requantization, short forms, widened filter and planned op data, and the build flags. Emission,
the fit check and the CLI all take a ``Lowering`` instead of recomputing its parts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from microforge.boards import Board
from microforge.lower.build_flags import build_flags
from microforge.lower.constant_records import tensor_records
from microforge.lower.memory_plan import MemoryPlan, plan_memory
from microforge.lower.optimize import check_optimize
from microforge.lower.planned_ops import PlannedOp, Pointers, planned_op
from microforge.lower.requant import ChannelQuant, channel_quants, quick_blocks
from microforge.lower.wide_filters import use_wide_filters, wide_filter
from microforge.model import ModelInfo


@dataclass(frozen=True)
class OpLowering:
    """One operator: its per-channel arrays in the plan, the names the plan gives them (which its
    op data points at), and its planned params and op data (None: prepared on the device)."""

    cq: ChannelQuant | None
    quick: list[int] | None
    wide: np.ndarray | None
    names: Pointers
    planned: PlannedOp | None


@dataclass(frozen=True)
class Lowering:
    model: ModelInfo
    plan: MemoryPlan
    wide: bool                 # the plan carries widened CONV_2D and FULLY_CONNECTED filters
    ops: tuple[OpLowering, ...]
    flags: tuple[str, ...]     # -D MF_MODEL_* kernel variants (build_flags)

    @property
    def quants(self) -> list[ChannelQuant | None]:
        return [o.cq for o in self.ops]

    @property
    def planned(self) -> list[PlannedOp | None]:
        return [o.planned for o in self.ops]

    @property
    def full_plan(self) -> bool:
        """Every operator planned: the generator emits every record, node and the arena itself
        (issues 22, 23), the device reads no flatbuffer and the arena holds activations only."""
        return is_full_plan(self.model, self.planned)

    @property
    def arena_bytes(self) -> int | None:
        """The whole arena of a full plan: the activations, 16-aligned (mf::arena_bytes with an
        empty tail). None otherwise: the target's compiler sizes it (model.h's kArenaSize)."""
        return (self.plan.activation_bytes + 15) & ~15 if self.full_plan else None


def lower(model: ModelInfo, boards: Sequence[Board], optimize: str = "speed") -> Lowering:
    """The lowering a project for these boards gets: at speed, widened filters where every board has
    room; at size, the smallest plan (lower.optimize)."""
    quants = channel_quants(model)
    if check_optimize(optimize) == "size":
        return lower_with(model, False, quants, quick_tables=False)
    return lower_with(model, use_wide_filters(model, list(boards), quants), quants)


def lower_with(model: ModelInfo, wide: bool, quants: list[ChannelQuant | None] | None = None,
               quick_tables: bool = True) -> Lowering:
    """The lowering with widened filters (and whether the plan carries quick blocks) chosen by the caller."""
    quants = channel_quants(model) if quants is None else quants
    ops = []
    for op, cq in zip(model.operators, quants, strict=True):
        i = op.index
        if cq is None:  # per-tensor weights: a FULLY_CONNECTED's widened filter at most
            filt = wide_filter(model, op, None) if wide and op.op == "FULLY_CONNECTED" else None
            names = Pointers(wide=f"kWide{i}") if filt is not None else Pointers()
            ops.append(OpLowering(None, None, filt, names, planned_op(model, op, None, Pointers())))
            continue
        quick = quick_blocks(model, op, cq) if quick_tables else None
        filt = wide_filter(model, op, cq) if wide else None
        names = Pointers(f"kMultipliers{i}", f"kShifts{i}", f"kQuick{i}" if quick is not None else None,
                         f"kWide{i}" if filt is not None else None)
        ops.append(OpLowering(cq, quick, filt, names, planned_op(model, op, cq, names)))
    flags = build_flags(model, wide, quick_tables)
    if is_full_plan(model, [o.planned for o in ops]):
        flags.append(FULL_PLAN_FLAG)
    return Lowering(model, plan_memory(model), wide, tuple(ops), tuple(flags))


FULL_PLAN_FLAG = "-D MF_MODEL_FULL_PLAN=1"  # the runtime leaves its model reader out (interpreter.cpp)


def is_full_plan(model: ModelInfo, planned: Sequence[PlannedOp | None]) -> bool:
    return bool(planned) and all(p is not None for p in planned) and tensor_records(model) is not None
