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

import numpy as np

from microforge.model import ModelInfo, OperatorInfo

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


# The fast kernels' short requantization (runtime/src/microforge/kernels/requant.h: QuickRequant,
# make_quick, constant_quick, RequantTable's quick blocks), computed here so the device derives
# nothing per call. Every step mirrors the runtime's integer arithmetic; tests/runtime compares the
# two on random and edge parameters and on the zoo models.
QUICK_BLOCK = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 4}


def quick_offsets(block: int, c: int) -> tuple[list[int], int]:
    """Where channel c's bias words (twice over in blocks of 2) and its (m, base, r) lie in its
    operator's quick blocks (requant.h RequantTable: block_words, bias_words)."""
    block_words, bias_words = (10, 4) if block == 2 else (4 * block, block)
    start, j = c // block * block_words, c % block
    biases = [start + j, start + j + 2] if block == 2 else [start + j]
    return biases, start + bias_words + 3 * j
_I32_MIN, _I32_MAX = -(1 << 31), (1 << 31) - 1


def _wrap32(v: int) -> int:
    return ((v + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def multiply_by_quantized_multiplier(x: int, m: int, s: int) -> int:
    """TFLM's MultiplyByQuantizedMultiplier (double rounding) on int32 values."""
    x = _wrap32(x * (1 << max(s, 0)))
    if x == m == _I32_MIN:
        h = _I32_MAX
    else:
        ab = x * m
        num = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
        h = -((-num) >> 31) if num < 0 else num >> 31  # division truncating toward zero
    r = max(-s, 0)
    mask = (1 << r) - 1
    threshold = (mask >> 1) + (1 if h < 0 else 0)
    return (h >> r) + (1 if (h & mask) > threshold else 0)


def apply_quick(q: tuple[int, int, int], x: int) -> int:
    """The device's short requantization of accumulator x: x doubled (modulo 2^32), SMMLAR, the
    shift."""
    m, base, r = q
    x2 = _wrap32(2 * x)
    a = _wrap32(base + (x2 >> 31))
    top = (x2 * m + (1 << 31)) >> 32
    return _wrap32(a + top) >> r


def make_quick(m: int, s: int, out_offset: int, acc_bound: int) -> tuple[int, int, int] | None:
    """(m, base, r) exact for every |accumulator| <= acc_bound, or None (requant.h: make_quick);
    (0, 2 * offset + 1, 1) where every such accumulator gives the offset."""
    if m == 0 or (-62 <= s <= -1 and (1 << (-s - 1)) - 1 >= acc_bound):
        return 0, 2 * out_offset + 1, 1
    if m < 1 << 30 or not -30 <= s <= -1 or acc_bound >= 1 << 30:
        return None
    r = -s
    base = (1 << (r - 1)) + out_offset * (1 << r)
    if base - acc_bound - 1 < _I32_MIN or base + acc_bound > _I32_MAX:
        return None
    return m, base, r


def constant_quick(m: int, s: int, out_offset: int, bias: int) -> tuple[int, int, int] | None:
    """The form of a channel without weights (its output is one value): requant.h constant_quick."""
    v = min(max(_wrap32(multiply_by_quantized_multiplier(bias, m, s) + out_offset), -128), 127)
    q = (0, 2 * v + 1, 1)
    return q if apply_quick(q, bias) == v else None


def constant_array(model: ModelInfo, index: int) -> np.ndarray | None:
    """A constant int8 or int32 tensor's values in its shape, or None."""

    root = model.root
    t = model.tensors[index]
    dtype = {"int8": np.int8, "int32": np.int32}.get(t.dtype)
    data = root.Buffers(t.buffer).DataAsNumpy() if t.constant and dtype is not None else None
    if not isinstance(data, np.ndarray) or data.size != t.nbytes:
        return None
    return np.frombuffer(data.tobytes(), dtype=dtype).reshape(t.shape)


def quick_blocks(model: ModelInfo, op: OperatorInfo, cq: ChannelQuant | None) -> list[int] | None:
    """The operator's quick blocks as int32 words (QUICK_BLOCK[op] channels a block: their biases
    doubled, twice over in CONV_2D's blocks of 2, then m, base, r per channel; four more words after
    CONV_2D's), or None where some channel has no short form or the fast kernels would not use them
    (per-tensor weights, a depth multiplier, another operator)."""
    block = QUICK_BLOCK.get(op.op)
    if block is None or cq is None:
        return None
    x, w, y = (model.tensors[i] for i in (op.inputs[0], op.inputs[1], op.outputs[0]))
    weights = constant_array(model, w.index) if w.dtype == "int8" else None
    if weights is None or weights.ndim != 4:
        return None
    if op.op == "DEPTHWISE_CONV_2D":
        if weights.shape[3] != x.shape[-1]:
            return None  # a depth multiplier: that path derives its own
        taps = weights.shape[1] * weights.shape[2]
        live = np.any(weights.reshape(-1, weights.shape[3]) != 0, axis=0)
    else:
        taps = weights.shape[1] * weights.shape[2] * weights.shape[3]
        live = np.any(weights.reshape(weights.shape[0], -1) != 0, axis=1)
    channels = len(cq.multipliers)
    has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
    biases = constant_array(model, op.inputs[2]) if has_bias else np.zeros(channels, np.int32)
    if biases is None or biases.size != channels or live.size != channels:
        return None
    off = y.quant.zero_points[0]
    words = [0] * (-(-channels // block) * (10 if block == 2 else 4 * block))
    for c in range(channels):
        m, s, b = cq.multipliers[c], cq.shifts[c], int(biases.reshape(-1)[c])
        q = make_quick(m, s, off, taps * 255 * 128 + abs(b))
        if q is None and not live[c]:
            q = constant_quick(m, s, off, b)
        if q is None:
            return None
        biases_at, at = quick_offsets(block, c)
        for i in biases_at:
            words[i] = _wrap32(2 * b)  # doubled, as the kernels' accumulators
        words[at:at + 3] = list(q)
    if block == 2:
        words += [0] * 4  # CONV_2D's tiles load the next pair's biases also after the last pair
    return words
