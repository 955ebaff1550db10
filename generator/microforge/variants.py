"""Which kernel variants a model needs, as build flags for its platformio.ini.

A firmware links every kernel function its model's operators could reach. With the fast int8
kernels (cores with the DSP extension) most layouts never reach the reference int8 loops, and
most models never use a depthwise multiplier: the flags below let the runtime leave the reference loops out
(runtime/src/microforge/kernels/simd.h). The conditions mirror the fast paths' own
(``*_covers`` in fast_int8.cpp); should they ever disagree, the firmware's init() refuses the
operator (kUnsupportedType) rather than compute nothing, and the tests run every zoo model so.
"""

from __future__ import annotations

import numpy as np
import tflite

from .model import ModelInfo, OperatorInfo

# The kernels whose float32 loops MF_MODEL_NO_FLOAT leaves out (runtime kernels/simd.h).
FLOAT_LOOP_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
                            "SOFTMAX"})
MAX_PATCH = 576        # fast_int8.cpp PatchPair::kMaxPatch (filter taps x input depth)
MAX_FC_DEPTH = 1024    # WideRow::kMaxDepth
DEPTHWISE_WORDS = 400  # DepthwiseTaps::kWords
MAX_POOL_WINDOW = 256  # fast_pool.cpp: 16-bit window sums


def conv_dilation(root: tflite.Model, op: OperatorInfo) -> tuple[int, int]:
    """(height, width) dilation of a CONV_2D or DEPTHWISE_CONV_2D operator."""
    table = root.Subgraphs(0).Operators(op.index).BuiltinOptions()
    if table is None:
        return 1, 1
    opts = tflite.Conv2DOptions() if op.op == "CONV_2D" else tflite.DepthwiseConv2DOptions()
    opts.Init(table.Bytes, table.Pos)
    return opts.DilationHFactor() or 1, opts.DilationWFactor() or 1


def _int8_ops(model: ModelInfo, name: str, inputs: int = 2) -> list[OperatorInfo]:
    """The model's int8 operators of one type (with at least this many inputs: weighted ops 2)."""
    return [op for op in model.operators if op.op == name and len(op.inputs) >= inputs
            and model.tensors[op.inputs[0]].dtype == "int8"]


def _pool_window(root: tflite.Model, op: OperatorInfo) -> int:
    """Elements in a pool operator's window (filter height x width)."""
    table = root.Subgraphs(0).Operators(op.index).BuiltinOptions()
    if table is None:
        return 0
    opts = tflite.Pool2DOptions()
    opts.Init(table.Bytes, table.Pos)
    return opts.FilterHeight() * opts.FilterWidth()


def _depthwise_block(taps: int) -> int:
    return min((2 * DEPTHWISE_WORDS // taps) & ~3, 32)


def build_flags(model: ModelInfo) -> list[str]:
    """``-D`` flags for the model's build (empty when every variant may be needed)."""
    root = tflite.Model.GetRootAsModel(model.data, 0)
    flags = []
    convs = _int8_ops(model, "CONV_2D")
    if all(conv_dilation(root, op) == (1, 1) and _taps(model, op) * model.tensors[op.inputs[0]].shape[-1] <= MAX_PATCH
           for op in convs):
        flags.append("-D MF_MODEL_CONV_FAST_ONLY=1")
    dws = _int8_ops(model, "DEPTHWISE_CONV_2D")
    multipliers = [_depth_multiplier(model, op) for op in dws]
    if all(m == 1 for m in multipliers):
        flags.append("-D MF_MODEL_NO_DEPTH_MULTIPLIER=1")
    if all(conv_dilation(root, op) == (1, 1) and _depthwise_block(_taps(model, op)) > 0 and (m == 1 or m % 4 == 0)
           for op, m in zip(dws, multipliers, strict=True)):
        flags.append("-D MF_MODEL_DEPTHWISE_FAST_ONLY=1")
    fcs = _int8_ops(model, "FULLY_CONNECTED")
    if all(model.tensors[op.inputs[1]].shape[-1] <= MAX_FC_DEPTH for op in fcs):
        flags.append("-D MF_MODEL_FC_FAST_ONLY=1")
    flags.append(f"-D MF_MODEL_FC_QUADS={_fc_quads(model, root, fcs)}")
    if all(_pool_window(root, op) <= MAX_POOL_WINDOW for op in _int8_ops(model, "AVERAGE_POOL_2D", inputs=1)):
        flags.append("-D MF_MODEL_POOL_FAST_ONLY=1")
    if not any(op.op in FLOAT_LOOP_OPS and op.inputs and op.inputs[0] >= 0
               and model.tensors[op.inputs[0]].dtype == "float32" for op in model.operators):
        flags.append("-D MF_MODEL_NO_FLOAT=1")
    return flags


# FULLY_CONNECTED's quad routines (fast_int8.cpp, MF_MODEL_FC_QUADS): per-tensor full range 1,
# per-tensor clamped 2, per-channel full range 4, per-channel clamped 8. A routine left out only
# leaves its quads to the C loop (same results, slower), so an unsure case takes both.
_RELU, _RELU_N1_TO_1, _RELU6 = 1, 2, 3


def _fc_quads(model: ModelInfo, root: tflite.Model, fcs: list[OperatorInfo]) -> int:
    mask = 0
    for op in fcs:
        out = model.tensors[op.outputs[0]]
        per_channel = model.tensors[op.inputs[1]].quant.per_channel
        full = _full_range(root, op, out.quant.scales, out.quant.zero_points)
        bits = (4 if per_channel else 1) * ((1 if full is not False else 0) + (2 if full is not True else 0))
        mask |= bits
    return mask


def _full_range(root: tflite.Model, op: OperatorInfo, scales: tuple[float, ...],
                zero_points: tuple[int, ...]) -> bool | None:
    """Whether the fused activation leaves the int8 output its whole range (runtime
    activation_range_int8), None where rounding makes it unsure or the output is not int8."""
    table = root.Subgraphs(0).Operators(op.index).BuiltinOptions()
    act = 0
    if table is not None:
        opts = tflite.FullyConnectedOptions()
        opts.Init(table.Bytes, table.Pos)
        act = opts.FusedActivationFunction()
    if act == 0:
        return True
    if len(scales) != 1 or not scales[0] > 0:
        return None
    zp, scale = zero_points[0], np.float32(scales[0])
    bounds = {_RELU: (0.0, None), _RELU6: (0.0, 6.0), _RELU_N1_TO_1: (-1.0, 1.0)}.get(act)
    if bounds is None:
        return None

    def quantized(x: float) -> int | None:  # zp + round(x / scale), as float32; None near a tie
        q = float(np.float32(x) / scale)
        if abs(abs(q) % 1.0 - 0.5) < 1e-3:
            return None
        return zp + int(np.sign(q) * np.floor(abs(q) + 0.5))

    low, high = (quantized(b) if b is not None else None for b in bounds)
    if low is None or (bounds[1] is not None and high is None):
        return None
    return low <= -128 and (high is None or high >= 127)


def _taps(model: ModelInfo, op: OperatorInfo) -> int:
    shape = model.tensors[op.inputs[1]].shape  # [out or 1, f_h, f_w, in or out]
    return shape[1] * shape[2] if len(shape) == 4 else 0


def _depth_multiplier(model: ModelInfo, op: OperatorInfo) -> int:
    in_d = model.tensors[op.inputs[0]].shape[-1]
    out_d = model.tensors[op.inputs[1]].shape[-1]
    return out_d // in_d if in_d else 0
