"""Requantization parameters computed at generation time, exactly as the runtime's prepare would.

Operators with per-channel int8 weights (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED) need one
multiplier and shift per output channel. The generator emits them as constant arrays (flash) in
the memory plan, so the arena holds none of them and the device does no double-precision math
for them. The values equal TFLM's QuantizeMultiplier of in_scale * weight_scale[c] / out_scale,
evaluated in IEEE double in that order (as the kernels do; tests/runtime checks both agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .model import ModelInfo, OperatorInfo

# The operators whose kernels take ChannelQuant (runtime/src/microforge/kernels/channel_quant.h).
CHANNEL_QUANT_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})


@dataclass(frozen=True)
class ChannelQuant:
    multipliers: tuple[int, ...]
    shifts: tuple[int, ...]


def quantize_multiplier(real: float) -> tuple[int, int] | None:
    """(multiplier, shift) with real = multiplier * 2^(shift - 31); None where the runtime refuses
    (negative, NaN, infinite, or a left shift above 30)."""
    if not real >= 0.0 or math.isinf(real):
        return None
    if real == 0.0:
        return 0, 0
    q, e = math.frexp(real)
    q_fixed = int(q * 2147483648.0 + 0.5)  # exact: q * 2^31 < 2^31, round half up
    if q_fixed == 1 << 31:
        q_fixed //= 2
        e += 1
    if e < -31:
        return 0, 0
    if e > 30:
        return None
    return q_fixed, e


def channel_quant(model: ModelInfo, op: OperatorInfo) -> ChannelQuant | None:
    """The per-channel requantization of ``op``, or None when it has none (per-tensor or float
    weights, another operator) or its parameters are invalid (the device's prepare reports it)."""
    if op.op not in CHANNEL_QUANT_OPS or len(op.inputs) < 2 or min(op.inputs[:2]) < 0 or not op.outputs:
        return None
    x, w, y = model.tensors[op.inputs[0]], model.tensors[op.inputs[1]], model.tensors[op.outputs[0]]
    if x.dtype != "int8" or w.dtype != "int8" or not w.quant.per_channel:
        return None
    if len(x.quant.scales) != 1 or len(y.quant.scales) != 1:
        return None
    in_scale, out_scale = x.quant.scales[0], y.quant.scales[0]
    if not (0.0 < in_scale < math.inf and 0.0 < out_scale < math.inf):
        return None
    mults, shifts = [], []
    for ws in w.quant.scales:
        if not 0.0 < ws < math.inf:
            return None
        q = quantize_multiplier(in_scale * ws / out_scale)
        if q is None:
            return None
        mults.append(q[0])
        shifts.append(q[1])
    return ChannelQuant(tuple(mults), tuple(shifts))


def channel_quants(model: ModelInfo) -> list[ChannelQuant | None]:
    """Per operator, in order."""
    return [channel_quant(model, op) for op in model.operators]
