"""Which kernel variants a model needs, as build flags for its platformio.ini.

A firmware links every kernel function its model's operators could reach. With the fast int8
kernels (cores with the DSP extension) most layouts never reach the reference int8 loops, and
most models never use a depthwise multiplier: the flags below let the runtime leave the reference loops out
(runtime/src/microforge/kernels/simd.h). The conditions mirror the fast paths' own
(``*_covers`` in fast_int8.cpp); should they ever disagree, the firmware's init() refuses the
operator (kUnsupportedType) rather than compute nothing, and the tests run every zoo model so.
"""

from __future__ import annotations

import tflite

from .model import ModelInfo, OperatorInfo

MAX_PATCH = 576        # fast_int8.cpp PatchPair::kMaxPatch (filter taps x input depth)
MAX_FC_DEPTH = 1024    # WideRow::kMaxDepth
DEPTHWISE_WORDS = 400  # DepthwiseTaps::kWords


def conv_dilation(root: tflite.Model, op: OperatorInfo) -> tuple[int, int]:
    """(height, width) dilation of a CONV_2D or DEPTHWISE_CONV_2D operator."""
    table = root.Subgraphs(0).Operators(op.index).BuiltinOptions()
    if table is None:
        return 1, 1
    opts = tflite.Conv2DOptions() if op.op == "CONV_2D" else tflite.DepthwiseConv2DOptions()
    opts.Init(table.Bytes, table.Pos)
    return opts.DilationHFactor() or 1, opts.DilationWFactor() or 1


def _int8_ops(model: ModelInfo, name: str) -> list[OperatorInfo]:
    return [op for op in model.operators
            if op.op == name and len(op.inputs) > 1 and model.tensors[op.inputs[0]].dtype == "int8"]


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
    return flags


def _taps(model: ModelInfo, op: OperatorInfo) -> int:
    shape = model.tensors[op.inputs[1]].shape  # [out or 1, f_h, f_w, in or out]
    return shape[1] * shape[2] if len(shape) == 4 else 0


def _depth_multiplier(model: ModelInfo, op: OperatorInfo) -> int:
    in_d = model.tensors[op.inputs[0]].shape[-1]
    out_d = model.tensors[op.inputs[1]].shape[-1]
    return out_d // in_d if in_d else 0
