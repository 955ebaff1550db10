"""Which kernel variants a model needs, as build flags for its platformio.ini.

A firmware links every kernel function its model's operators could reach. With the fast int8
kernels (cores with the DSP extension) most layouts never reach the reference int8 loops, and
most models never use a depthwise multiplier: the flags below let the runtime leave the reference loops out
(runtime/src/microforge/kernels/fast/config.h). The conditions mirror the fast paths' own
(``*_covers`` in fast/dispatch.cpp); should they ever disagree, the firmware's init() refuses the
operator (kUnsupportedType) rather than compute nothing, and the tests run every zoo model so.
"""

from __future__ import annotations

import tflite

from microforge.boards import all_boards
from microforge.lower import limits
from microforge.lower.planned_ops import activation_range_int8
from microforge.lower.requant import (
    channel_quant,
    channel_quants,
    quick_blocks,
)
from microforge.lower.wide_filters import CODE_ALLOWANCE, fc_quick, wide_bytes, wide_fc_filter, wide_filter
from microforge.model import ModelInfo, OperatorInfo, builtin_options, conv_dilation

# The kernels whose float32 loops MF_MODEL_NO_FLOAT leaves out (runtime kernels/fast/config.h).
FLOAT_LOOP_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D",
                            "SOFTMAX"})
# The kernels' limits: runtime kernels/limits.h, read by microforge.lower.limits.
MAX_PATCH = limits.CONV_MAX_PATCH
MAX_FC_DEPTH = limits.FC_MAX_WIDE_DEPTH
MAX_POOL_WINDOW = limits.POOL_MAX_FAST_WINDOW


def _int8_ops(model: ModelInfo, name: str, inputs: int = 2) -> list[OperatorInfo]:
    """The model's int8 operators of one type (with at least this many inputs: weighted ops 2)."""
    return [op for op in model.operators if op.op == name and len(op.inputs) >= inputs
            and model.tensors[op.inputs[0]].dtype == "int8"]


def _pool_window(root: tflite.Model, op: OperatorInfo) -> int:
    """Elements in a pool operator's window (filter height x width)."""
    opts = builtin_options(root, op, tflite.Pool2DOptions)
    return opts.FilterHeight() * opts.FilterWidth() if opts is not None else 0


def _depthwise_block(taps: int) -> int:
    return min((2 * limits.DEPTHWISE_TAP_WORDS // taps) & ~3, limits.DEPTHWISE_MAX_BLOCK)


def build_flags(model: ModelInfo, wide: bool | None = None, quick: bool = True) -> list[str]:
    """``-D`` flags for the model's build (empty when every variant may be needed). wide: whether
    the plan carries the widened CONV_2D filters (microforge.lower.wide_filters.use_wide_filters for the
    project's boards); None: decided from the model where every board gives the same answer."""
    root = model.root
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
    wide_rows = [op for op in fcs if model.tensors[op.inputs[1]].shape[-1] <= MAX_FC_DEPTH]  # deeper: no quads
    flags.append("-D MF_MODEL_FC_FAST_ONLY=1")  # fully_connected_covers: every int8 FULLY_CONNECTED
    if len(wide_rows) == len(fcs):  # no row deeper than the widened row: no loop for such rows
        flags.append("-D MF_MODEL_FC_DEEP=0")
    fc_wide = _wide_everywhere(model) if wide is None else wide
    flags.append(f"-D MF_MODEL_FC_QUADS={_fc_quads(model, root, wide_rows, fc_wide)}")
    flags += _routine_flags(model, root, convs, dws, fcs, wide, quick)
    if all(_pool_window(root, op) <= MAX_POOL_WINDOW for op in _int8_ops(model, "AVERAGE_POOL_2D", inputs=1)):
        flags.append("-D MF_MODEL_POOL_FAST_ONLY=1")
    if not any(op.op in FLOAT_LOOP_OPS and op.inputs and op.inputs[0] >= 0
               and model.tensors[op.inputs[0]].dtype == "float32" for op in model.operators):
        flags.append("-D MF_MODEL_NO_FLOAT=1")
    return flags


# FULLY_CONNECTED's quad routines (fast/fc_quads.inc, MF_MODEL_FC_QUADS): per-tensor full range 1,
# per-tensor clamped 2, per-channel full range 4, per-channel clamped 8; over the plan's widened
# filter (wide_filters.wide_fc_filter) the same bits times 16. A routine left out only leaves its
# quads to the C loop (same results, slower), so an unsure case takes both.
_RELU, _RELU_N1_TO_1, _RELU6 = 1, 2, 3
_ACTIVATION_OPTIONS = {"CONV_2D": tflite.Conv2DOptions, "DEPTHWISE_CONV_2D": tflite.DepthwiseConv2DOptions,
                       "FULLY_CONNECTED": tflite.FullyConnectedOptions}


def _fc_quads(model: ModelInfo, root: tflite.Model, fcs: list[OperatorInfo], wide: bool | None) -> int:
    """The quad routines the operators reach (fully_connected_row: a bias, the short requantization
    and at least one whole quad of rows; over the widened filter where the plan carries it: wide
    True, or None where that depends on the boards)."""
    mask = 0
    for op in fcs:
        if not fc_quick(model, op):
            continue
        bits = _range_bits(model, root, op) << (2 if model.tensors[op.inputs[1]].quant.per_channel else 0)
        has_wide = wide is not False and wide_fc_filter(model, op) is not None
        if has_wide:
            mask |= bits << 4
        if (not has_wide or wide is None) and _fc_quad_count(model, op) > 0:
            mask |= bits
    return mask


def _fc_quad_count(model: ModelInfo, op: OperatorInfo) -> int:
    """Whole quads of output rows fully_connected_row gives the routine (a quad ending at the last
    row is left to C when the depth is not a multiple of 4)."""
    out_depth, depth = model.tensors[op.inputs[1]].shape[:2]
    quads = out_depth // 4
    return quads - 1 if depth % 4 != 0 and 4 * quads == out_depth else quads


def _range_bits(model: ModelInfo, root: tflite.Model, op: OperatorInfo) -> int:
    """1 where the operator's int8 output keeps its whole range, 2 where it is clamped, 3 when unsure."""
    out = model.tensors[op.outputs[0]]
    full = _full_range(root, op, out.quant.scales, out.quant.zero_points)
    return (1 if full is not False else 0) | (2 if full is not True else 0)


def _full_range(root: tflite.Model, op: OperatorInfo, scales: tuple[float, ...],
                zero_points: tuple[int, ...]) -> bool | None:
    """Whether the fused activation leaves the int8 output its whole range, by the runtime's own
    rule (prepared.activation_range_int8, which MF_VERIFY_PLAN checks against the kernels); None
    where the output is not per-tensor int8 or the activation is one the kernels refuse."""
    opts = builtin_options(root, op, _ACTIVATION_OPTIONS[op.op])
    act = opts.FusedActivationFunction() if opts is not None else 0
    if act == 0:
        return True
    if len(scales) != 1 or not scales[0] > 0 or act not in (_RELU, _RELU6, _RELU_N1_TO_1):
        return None
    return activation_range_int8(act, scales[0], zero_points[0]) == (-128, 127)


def _taps(model: ModelInfo, op: OperatorInfo) -> int:
    shape = model.tensors[op.inputs[1]].shape  # [out or 1, f_h, f_w, in or out]
    return shape[1] * shape[2] if len(shape) == 4 else 0


def _depth_multiplier(model: ModelInfo, op: OperatorInfo) -> int:
    in_d = model.tensors[op.inputs[0]].shape[-1]
    out_d = model.tensors[op.inputs[1]].shape[-1]
    return out_d // in_d if in_d else 0


# The fast kernels' other routines (kernels/fast/). As with the FC quads, a tile or row routine left
# out leaves its outputs to a C loop (same results, slower), and so does a C tile loop left out
# (*_ONLY: an output left over runs alone); without MF_MODEL_DEPTHWISE_3X3_ONLY's general path or
# MF_MODEL_QUICK_FROM_PLAN's derivation of the short requantization the fast path refuses the
# nodes that need them (*_covers).


def _routine_flags(model: ModelInfo, root: tflite.Model, int8_convs: list[OperatorInfo], dws: list[OperatorInfo],
                   fcs: list[OperatorInfo], wide: bool | None, quick: bool = True) -> list[str]:
    """The flags of the routines below for the model's int8 CONV_2D, DEPTHWISE_CONV_2D and
    FULLY_CONNECTED operators (the layouts the fast paths take)."""
    convs = [op for op in int8_convs if conv_dilation(root, op) == (1, 1)
             and _taps(model, op) * model.tensors[op.inputs[0]].shape[-1] <= MAX_PATCH]
    tiles, tiles_only = _conv_tiles(model, root, convs, dws, _wide_everywhere(model) if wide is None else wide)
    rows = [op for op in dws if conv_dilation(root, op) == (1, 1) and _depth_multiplier(model, op) == 1]
    flags = [f"-D MF_MODEL_CONV_TILES={tiles}",
             f"-D MF_MODEL_DEPTHWISE_ROWS={_or(_line_bits(model, root, op) for op in rows if _rows_3x3(model, op))}"]
    if tiles_only:
        flags.append("-D MF_MODEL_CONV_TILES_ONLY=1")
    if any(_widens_rows(model, root, op) for op in convs):
        flags.append("-D MF_MODEL_CONV_WIDEN_ROWS=1")
    if all(_fc_in_quads(model, op) for op in fcs if model.tensors[op.inputs[1]].shape[-1] <= MAX_FC_DEPTH):
        flags.append("-D MF_MODEL_FC_QUADS_ONLY=1")
    if all(_rows_3x3(model, op) and _out_depth(model, op) % 4 == 0 for op in rows):
        flags.append("-D MF_MODEL_DEPTHWISE_3X3_ONLY=1")
    if all(quick and quick_blocks(model, op, channel_quant(model, op)) is not None for op in convs + rows):
        flags.append("-D MF_MODEL_QUICK_FROM_PLAN=1")
    return flags


def _widens_rows(model: ModelInfo, root: tflite.Model, op: OperatorInfo) -> bool:
    """Whether a CONV_2D the fast path takes widens patches of a multiple of 16 bytes four groups an LDM
    (fast/conv_tiles.inc widen_rows_dsp, MF_MODEL_CONV_WIDEN_ROWS): not the input's pixels one after
    another (a 1x1 filter at stride 1, conv_2d_widened's `flat`)."""
    if _taps(model, op) * model.tensors[op.inputs[0]].shape[-1] % 16 != 0:
        return False
    opts = builtin_options(root, op, tflite.Conv2DOptions)
    strides = (opts.StrideW(), opts.StrideH()) if opts is not None else (1, 1)
    return _taps(model, op) != 1 or strides != (1, 1)


def _or(masks) -> int:
    mask = 0
    for m in masks:
        mask |= m
    return mask


def _out_depth(model: ModelInfo, op: OperatorInfo) -> int:
    return model.tensors[op.outputs[0]].shape[-1]


def _line_bits(model: ModelInfo, root: tflite.Model, op: OperatorInfo) -> int:
    """The line routines depthwise_3x3_rows takes for a depth multiplier 1 operator
    (fast/depthwise_rows.inc: LineGeometry, depthwise_rows): its range bits at stride 1 along the
    line, shifted by 2 at stride 2, none beyond."""
    _, out_h, out_w, _ = model.tensors[op.outputs[0]].shape
    opts = builtin_options(root, op, tflite.DepthwiseConv2DOptions)
    stride_h, stride_w = (opts.StrideH(), opts.StrideW()) if opts is not None else (1, 1)
    # Output columns as the lines where they take fewer pair steps (and stride_h <= 2), else rows.
    rows_cost = out_h * ((out_w + 1) // 2 * 32 + 24)
    cols_cost = out_w * ((out_h + 1) // 2 * 32 + 24)
    along = stride_h if cols_cost < rows_cost and stride_h <= 2 else stride_w
    return 0 if along > 2 else _range_bits(model, root, op) << (2 if along == 2 else 0)


def _rows_3x3(model: ModelInfo, op: OperatorInfo) -> bool:
    """Whether depthwise_3x3_rows takes a depth multiplier 1 operator (fast/depthwise_rows.inc rows_3x3)."""
    shape = model.tensors[op.inputs[1]].shape
    return len(shape) == 4 and shape[1] == shape[2] == 3 and _out_depth(model, op) >= 4


def _wide_everywhere(model: ModelInfo) -> bool | None:
    """Whether the plan carries widened CONV_2D filters (filters.use_wide_filters) on any boards
    running the fast kernels: never without such filters, always when they fit the smallest flash
    of the catalogue; None where it depends on the boards."""
    extra = wide_bytes(model, channel_quants(model))
    if extra == 0:
        return False
    flash = [b.flash_bytes for b in all_boards().values() if b.flash_bytes is not None]
    return True if all(len(model.data) + extra + CODE_ALLOWANCE <= f for f in flash) else None


def _conv_tiles(model: ModelInfo, root: tflite.Model, convs: list[OperatorInfo], dws: list[OperatorInfo],
                wide: bool | None) -> tuple[int, bool]:
    """MF_MODEL_CONV_TILES (over the widened filter full range 1, clamped 2; over the int8 filter
    4, 8), and whether those tiles take every channel of every operator (MF_MODEL_CONV_TILES_ONLY:
    the generator's short requantization, whole channel pairs, the int8 tiles only on whole groups
    of four filter elements). convs: the CONV_2D operators the fast path takes."""
    mask, only = 0, True
    for op in convs:
        k = _taps(model, op) * model.tensors[op.inputs[0]].shape[-1]
        cq = channel_quant(model, op)
        has_wide = wide is not False and wide_filter(model, op, cq, root) is not None
        int8_tiles = not has_wide or wide is None
        bits = _range_bits(model, root, op)
        mask |= (bits if has_wide else 0) | (bits << 2 if int8_tiles else 0)
        only = (only and quick_blocks(model, op, cq) is not None and _out_depth(model, op) % 2 == 0
                and (not int8_tiles or k % 4 == 0))
    for op in dws:  # a one-channel input's depth multiplier runs as a CONV_2D (depthwise_single_channel)
        taps, out_d, m = _taps(model, op), _out_depth(model, op), _depth_multiplier(model, op)
        if (model.tensors[op.inputs[0]].shape[-1] != 1 or m == 1 or m % 4 != 0
                or out_d * taps > limits.DEPTHWISE_MAX_TRANSPOSED or taps > MAX_PATCH
                or conv_dilation(root, op) != (1, 1) or _depthwise_block(taps) == 0):
            continue
        bits = _range_bits(model, root, op)
        mask |= bits if out_d // 2 * -(-taps // 4) * 4 <= limits.DEPTHWISE_MAX_WIDE_TRANSPOSED else bits << 2
        only = False  # its requantization is decided on the device
    return mask, only


def _fc_in_quads(model: ModelInfo, op: OperatorInfo) -> bool:
    """Whether the quad routines take every output row of an int8 FULLY_CONNECTED operator
    (fast/fc_quads.inc fully_connected_row): a bias, whole quads of rows over whole groups of four
    inputs, and the short requantization for every channel (FcRequant)."""
    w = model.tensors[op.inputs[1]]
    return len(w.shape) == 2 and w.shape[0] % 4 == 0 and w.shape[1] % 4 == 0 and fc_quick(model, op)
