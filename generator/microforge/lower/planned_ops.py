"""Kernel params and op data computed at generation time, exactly as the runtime's parse and prepare would.

For the operators below (and RESHAPE, SQUEEZE, EXPAND_DIMS) the generator emits each node's parsed
options (``Params``) and prepared ``OpData`` as constant structs in the memory plan
(``mf::PlannedOp``): the device then runs no parse or prepare for them, the arena holds neither,
and a firmware whose every node of a kernel is planned links only that kernel's eval (its
``kPlanned`` registration), none of the prepare code or the double-precision math it needs. Every
rule mirrors the kernel's own (conv_common.cpp, fully_connected.cpp, pool_common.cpp,
softmax.cpp); where the kernel would refuse a node, or anything is uncertain, the node is left
unplanned and the device's prepare reports it as before. Builds with ``-D MF_VERIFY_PLAN=1`` (the
host env) run the kernels' prepare too and refuse a plan whose bytes differ (runtime.h,
PlannedOp), so every model the host tests run checks this mirror.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import tflite

from microforge.lower import limits
from microforge.lower.requant import ChannelQuant, quantize_multiplier
from microforge.model import ModelInfo, OperatorInfo, TensorInfo, builtin_options

FLT_MAX = float(np.finfo(np.float32).max)
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1
_ACT_NONE, _ACT_RELU, _ACT_RELU_N1_TO_1, _ACT_RELU6 = 0, 1, 2, 3
_PADDING_SAME, _PADDING_VALID = 0, 1


@dataclass(frozen=True)
class Pointers:
    """Names of the plan arrays an operator's op data points at (model_plan.cpp)."""

    multipliers: str | None = None
    shifts: str | None = None
    quick: str | None = None
    wide: str | None = None


@dataclass(frozen=True)
class PlannedOp:
    """C++ type and aggregate-initializer values of one node's params and op data (params_type
    None: the kernel has no params)."""

    params_type: str | None
    params: tuple[tuple[str, str], ...]   # (field, C++ value), by the struct's member names
    op_data_type: str
    op_data: tuple[tuple[str, str], ...]


# -- C++ values -----------------------------------------------------------------------------------

def _f32(v: float) -> str:
    return f"{float(np.float32(v)).hex()}f"


def _bool(v: bool) -> str:
    return "true" if v else "false"


def _ptr(name: str | None) -> str:
    return name if name is not None else "nullptr"


# -- the kernels' shared rules --------------------------------------------------------------------

def _named(**fields: object) -> tuple[tuple[str, str], ...]:
    """Struct members and their C++ values; a member left out stays zero (value-initialized)."""
    return tuple((name, value if isinstance(value, str) else str(value)) for name, value in fields.items())


def _options(model: ModelInfo, op: OperatorInfo, cls: type) -> object | None:
    return builtin_options(model.root, op, cls)


def _round_to_int32(v: float) -> int:
    """qm::round_to_int32: half away from zero, saturating, NaN -> 0."""
    if math.isnan(v):
        return 0
    if v >= 2147483647.0:
        return INT32_MAX
    if v <= -2147483648.0:
        return INT32_MIN
    t = math.trunc(v)
    frac = v - t
    return t + 1 if frac >= 0.5 else (t - 1 if frac <= -0.5 else t)


def activation_range_int8(act: int, scale: float, zero_point: int) -> tuple[int, int]:
    """fused_activation.h activation_range_int8: the bounds quantized in float32, within [-128, 127]."""
    def quantize(x: float) -> int:
        with np.errstate(all="ignore"):
            q = float(np.float32(x) / np.float32(scale))
        return max(INT32_MIN, min(INT32_MAX, zero_point + _round_to_int32(q)))

    lo, hi = -128, 127
    if act in (_ACT_RELU, _ACT_RELU6):
        lo = max(lo, quantize(0.0))
    if act == _ACT_RELU6:
        hi = min(hi, quantize(6.0))
    if act == _ACT_RELU_N1_TO_1:
        lo, hi = max(lo, quantize(-1.0)), min(hi, quantize(1.0))
    return lo, hi


def activation_range_float(act: int) -> tuple[float, float]:
    lo = 0.0 if act in (_ACT_RELU, _ACT_RELU6) else -FLT_MAX
    hi = 6.0 if act == _ACT_RELU6 else FLT_MAX
    if act == _ACT_RELU_N1_TO_1:
        lo, hi = -1.0, 1.0
    return lo, hi


def window_out_size(padding: int, size: int, filt: int, stride: int, dilation: int) -> int:
    if stride < 1 or dilation < 1 or filt < 1 or size < 1:
        return -1
    if padding == _PADDING_SAME:
        return (size - 1) // stride + 1
    if padding != _PADDING_VALID:
        return -1
    effective = (filt - 1) * dilation + 1
    return -1 if effective > size else (size - effective) // stride + 1


def window_padding(size: int, filt: int, stride: int, dilation: int, out: int) -> int:
    total = (out - 1) * stride + (filt - 1) * dilation + 1 - size
    return total // 2 if total > 0 else 0


def _scale_ok(s: float) -> bool:
    return 0.0 < s <= FLT_MAX


def _one_scale(t: TensorInfo) -> float | None:
    return t.quant.scales[0] if len(t.quant.scales) == 1 else None


def _zero_point(t: TensorInfo) -> int:
    return t.quant.zero_points[0] if t.quant.zero_points else 0


def _tensor(model: ModelInfo, op: OperatorInfo, k: int, outputs: bool = False) -> TensorInfo | None:
    ids = op.outputs if outputs else op.inputs
    return model.tensors[ids[k]] if k < len(ids) and ids[k] >= 0 else None


@dataclass
class _Int8Requant:
    input_offset: int
    output_offset: int
    act_min: int
    act_max: int
    multiplier: int
    shift: int
    per_channel: bool


def _float_weighted(w: TensorInfo, y: TensorInfo, bias: TensorInfo | None) -> bool:
    """A float32 CONV / DEPTHWISE / FC node: weights, output and any bias float32 too."""
    return w.dtype == "float32" and y.dtype == "float32" and (bias is None or bias.dtype == "float32")


def _float_range(act: int) -> tuple[tuple[str, str], ...]:
    lo, hi = activation_range_float(act)
    return _named(is_float=_bool(True), f_min=_f32(lo), f_max=_f32(hi))


def _requant_fields(rq: _Int8Requant, ptrs: Pointers) -> tuple[tuple[str, str], ...]:
    """The int8 requantization members CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED op data share."""
    fields = _named(input_offset=rq.input_offset, output_offset=rq.output_offset, act_min=rq.act_min,
                    act_max=rq.act_max, multiplier=rq.multiplier, shift=rq.shift)
    if rq.per_channel:
        fields += _named(channel_mult=_ptr(ptrs.multipliers), channel_shift=_ptr(ptrs.shifts),
                         per_channel=_bool(True))
    return fields


def _int8_requant(x: TensorInfo, w: TensorInfo, bias: TensorInfo | None, y: TensorInfo, act: int,
                  cq: ChannelQuant | None, fc: bool, channels: int, axis: int) -> _Int8Requant | None:
    """The int8 half of conv_common::prepare_int8 / fully_connected's prepare_int8 (channels: the
    output channels, axis: the weights' channel dimension)."""
    if w.dtype != "int8" or y.dtype != "int8" or (bias is not None and bias.dtype != "int32"):
        return None
    in_scale, out_scale = _one_scale(x), _one_scale(y)
    if in_scale is None or out_scale is None or not w.quant.scales:
        return None
    if not _scale_ok(in_scale) or not _scale_ok(out_scale):
        return None
    zin, zout = _zero_point(x), _zero_point(y)
    if not (-128 <= zin <= 127 and -128 <= zout <= 127):
        return None
    lo, hi = activation_range_int8(act, out_scale, zout)
    if w.quant.per_channel:  # the plan's arrays, checked against the model by channel_requant
        if cq is None or len(cq.multipliers) != len(w.quant.scales) or len(w.quant.scales) != channels:
            return None
        if w.quant.axis != axis:
            return None
        if any(z != 0 for z in w.quant.zero_points) or not all(_scale_ok(s) for s in w.quant.scales):
            return None
        return _Int8Requant(-zin, zout, lo, hi, 0, 0, True)
    ws = w.quant.scales[0]
    if _zero_point(w) != 0 or not _scale_ok(ws):
        return None
    product = in_scale * ws
    if fc and bias is not None:  # TFLM's GetQuantizedConvolutionMultipler check
        bs = _one_scale(bias) or 0.0
        if abs(product - bs) > 1e-6 * min(product, bs):
            return None
    q = quantize_multiplier(product / out_scale)  # (in * w) / out, the kernels' order
    if q is None:
        return None
    return _Int8Requant(-zin, zout, lo, hi, q[0], q[1], False)


# -- the kernels ----------------------------------------------------------------------------------

def _conv(model: ModelInfo, op: OperatorInfo, cq: ChannelQuant | None, ptrs: Pointers) -> PlannedOp | None:
    depthwise = op.op == "DEPTHWISE_CONV_2D"
    opts = _options(model, op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
    padding = opts.Padding() if opts else 0
    stride_w, stride_h = (opts.StrideW(), opts.StrideH()) if opts else (0, 0)
    act = opts.FusedActivationFunction() if opts else 0
    dil_w, dil_h = (opts.DilationWFactor(), opts.DilationHFactor()) if opts else (1, 1)
    depth_mult = (opts.DepthMultiplier() if opts else 0) if depthwise else 0
    if act not in range(4) or padding not in (_PADDING_SAME, _PADDING_VALID):
        return None
    if min(stride_w, stride_h, dil_w, dil_h) < 1 or (depthwise and depth_mult < 1):
        return None
    if not 2 <= len(op.inputs) <= 3 or len(op.outputs) != 1:
        return None
    x, w, y = _tensor(model, op, 0), _tensor(model, op, 1), _tensor(model, op, 0, outputs=True)
    bias = _tensor(model, op, 2)
    if x is None or w is None or y is None or len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4:
        return None
    batches, in_h, in_w, in_d = x.shape
    f_h, f_w = w.shape[1], w.shape[2]
    out_d = w.shape[3] if depthwise else w.shape[0]
    if y.shape[0] != batches or y.shape[3] != out_d or in_d < 1 or out_d < 1 or batches < 1:
        return None
    out_h = window_out_size(padding, in_h, f_h, stride_h, dil_h)
    out_w = window_out_size(padding, in_w, f_w, stride_w, dil_w)
    if out_h < 1 or out_w < 1 or y.shape[1] != out_h or y.shape[2] != out_w:
        return None
    pad_h = window_padding(in_h, f_h, stride_h, dil_h, out_h)
    pad_w = window_padding(in_w, f_w, stride_w, dil_w, out_w)
    if bias is not None and bias.elements != out_d:
        return None
    if depthwise and (w.shape[0] != 1 or in_d * depth_mult != out_d):
        return None
    if not depthwise and w.shape[3] != in_d:
        return None
    data = _named(batches=batches, in_h=in_h, in_w=in_w, in_d=in_d, out_h=out_h, out_w=out_w, out_d=out_d,
                  f_h=f_h, f_w=f_w, pad_h=pad_h, pad_w=pad_w)
    if x.dtype == "float32":
        if not _float_weighted(w, y, bias):
            return None
        data += _float_range(act)
    elif x.dtype == "int8":
        rq = _int8_requant(x, w, bias, y, act, cq, False, out_d, 3 if depthwise else 0)
        if rq is None:
            return None
        data += _requant_fields(rq, ptrs)
        if rq.per_channel:
            data += _named(quick=_ptr(ptrs.quick), wide=_ptr(None if depthwise else ptrs.wide))
    else:
        return None
    params = _named(padding=padding, activation=act, stride_w=stride_w, stride_h=stride_h, dilation_w=dil_w,
                    dilation_h=dil_h, depth_multiplier=depth_mult)
    return PlannedOp("mf::kernels::conv_common::Params", params, "mf::kernels::conv_common::OpData", data)


def _fully_connected(model: ModelInfo, op: OperatorInfo, cq: ChannelQuant | None,
                     ptrs: Pointers) -> PlannedOp | None:
    opts = _options(model, op, tflite.FullyConnectedOptions)
    act = opts.FusedActivationFunction() if opts else 0
    fmt = opts.WeightsFormat() if opts else 0
    keep = bool(opts.KeepNumDims()) if opts else False
    if act not in range(4) or fmt != 0 or not 2 <= len(op.inputs) <= 3 or len(op.outputs) != 1:
        return None
    x, w, y = _tensor(model, op, 0), _tensor(model, op, 1), _tensor(model, op, 0, outputs=True)
    bias = _tensor(model, op, 2)
    if x is None or w is None or y is None or len(w.shape) != 2 or len(y.shape) < 1:
        return None
    out_depth, accum = w.shape
    if out_depth <= 0 or accum <= 0 or y.shape[-1] != out_depth:
        return None
    batches = y.elements // out_depth
    if batches * accum != x.elements or batches > INT32_MAX:
        return None
    if (keep and len(y.shape) != len(x.shape)) or (bias is not None and bias.elements != out_depth):
        return None
    data = _named(batches=batches, accum_depth=accum, out_depth=out_depth)
    if x.dtype == "float32":
        if not _float_weighted(w, y, bias):
            return None
        data += _float_range(act)
    elif x.dtype == "int8":
        rq = _int8_requant(x, w, bias, y, act, cq, True, out_depth, 0)
        if rq is None:
            return None
        data += _requant_fields(rq, ptrs)
    else:
        return None
    return PlannedOp("mf::kernels::fully_connected::Params", _named(activation=act, keep_num_dims=_bool(keep)),
                     "mf::kernels::fully_connected::OpData", data)


def _pool(model: ModelInfo, op: OperatorInfo) -> PlannedOp | None:
    opts = _options(model, op, tflite.Pool2DOptions)
    padding = opts.Padding() if opts else 0
    stride_w, stride_h = (opts.StrideW(), opts.StrideH()) if opts else (0, 0)
    filter_w, filter_h = (opts.FilterWidth(), opts.FilterHeight()) if opts else (0, 0)
    act = opts.FusedActivationFunction() if opts else 0
    if act not in range(4) or padding not in (_PADDING_SAME, _PADDING_VALID):
        return None
    if min(stride_w, stride_h, filter_w, filter_h) < 1 or len(op.inputs) != 1 or len(op.outputs) != 1:
        return None
    x, y = _tensor(model, op, 0), _tensor(model, op, 0, outputs=True)
    if x is None or y is None or len(x.shape) != 4 or len(y.shape) != 4:
        return None
    batches, in_h, in_w, depth = x.shape
    out_h = window_out_size(padding, in_h, filter_h, stride_h, 1)
    out_w = window_out_size(padding, in_w, filter_w, stride_w, 1)
    if out_h < 1 or out_w < 1 or tuple(y.shape) != (batches, out_h, out_w, depth) or depth < 1 or batches < 1:
        return None
    pad_h = window_padding(in_h, filter_h, stride_h, 1, out_h)
    pad_w = window_padding(in_w, filter_w, stride_w, 1, out_w)
    if x.dtype != y.dtype:
        return None
    data = _named(batches=batches, in_h=in_h, in_w=in_w, depth=depth, out_h=out_h, out_w=out_w, pad_h=pad_h,
                  pad_w=pad_w)
    if x.dtype == "float32":
        data += _float_range(act)
    elif x.dtype == "int8":
        scale = _one_scale(y)
        if scale is None or not _scale_ok(scale) or filter_h * filter_w > (1 << 23):
            return None
        lo, hi = activation_range_int8(act, scale, _zero_point(y))
        data += _named(act_min=lo, act_max=hi)
    else:
        return None
    params = _named(padding=padding, activation=act, stride_w=stride_w, stride_h=stride_h, filter_w=filter_w,
                    filter_h=filter_h)
    return PlannedOp("mf::kernels::pool_common::Params", params, "mf::kernels::pool_common::OpData", data)


def _softmax(model: ModelInfo, op: OperatorInfo) -> PlannedOp | None:
    opts = _options(model, op, tflite.SoftmaxOptions)
    beta = float(np.float32(opts.Beta())) if opts else 0.0
    if len(op.inputs) != 1 or len(op.outputs) != 1:
        return None
    x, y = _tensor(model, op, 0), _tensor(model, op, 0, outputs=True)
    if x is None or y is None or len(x.shape) < 1 or tuple(x.shape) != tuple(y.shape):
        return None
    depth = x.shape[-1]
    if depth <= 0:
        return None
    data = _named(outer=x.elements // depth, depth=depth)
    if x.dtype == "float32":
        if y.dtype != "float32":
            return None
        data += _named(is_float=_bool(True), beta=_f32(beta))
    elif x.dtype == "int8":
        in_scale, out_scale = _one_scale(x), _one_scale(y)
        if y.dtype != "int8" or in_scale is None or out_scale is None:
            return None
        k = np.float32(1.0 / 256.0)
        margin = np.float32(0.001) * k
        if _zero_point(y) != -128 or not (k - margin <= np.float32(out_scale) <= k + margin):
            return None
        if not _scale_ok(in_scale) or not _scale_ok(beta) or depth > limits.SOFTMAX_MAX_DEPTH:
            return None
        real = min(beta * in_scale * float(1 << 26), 2147483647.0)
        q = quantize_multiplier(real) if real > 1.0 else None
        if q is None:
            return None
        radius = ((1 << 5) - 1) << 26 >> q[1]
        data += _named(input_multiplier=q[0], input_left_shift=q[1], diff_min=-radius)
    else:
        return None
    return PlannedOp("mf::kernels::softmax::Params", _named(beta=_f32(beta)), "mf::kernels::softmax::OpData", data)


_COPY_INPUTS = {"RESHAPE": (1, 2), "SQUEEZE": (1, 1), "EXPAND_DIMS": (2, 2)}
_INTEGER_TYPES = ("int32", "int64")


def _copy(model: ModelInfo, op: OperatorInfo) -> PlannedOp | None:
    """RESHAPE, SQUEEZE, EXPAND_DIMS (reshape.cpp prepare_copy): the bytes to copy."""
    lo, hi = _COPY_INPUTS[op.op]
    if not lo <= len(op.inputs) <= hi or len(op.outputs) != 1:
        return None
    x, y = _tensor(model, op, 0), _tensor(model, op, 0, outputs=True)
    if op.op == "EXPAND_DIMS":
        axis = _tensor(model, op, 1)
        if axis is None or axis.dtype not in _INTEGER_TYPES or axis.elements != 1:
            return None
    if x is None or y is None or x.dtype != y.dtype or x.elements != y.elements or x.nbytes != y.nbytes:
        return None
    if op.op == "EXPAND_DIMS" and len(y.shape) != len(x.shape) + 1:
        return None
    return PlannedOp(None, (), "mf::kernels::reshape_common::OpData", _named(bytes=f"{x.nbytes}u"))


def planned_op(model: ModelInfo, op: OperatorInfo, cq: ChannelQuant | None,
               ptrs: Pointers) -> PlannedOp | None:
    """The node's params and op data as the kernel's parse and prepare would compute them, or None
    where the kernel is not planned or would refuse the node."""
    if op.op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        return _conv(model, op, cq, ptrs)
    if op.op == "FULLY_CONNECTED":
        return _fully_connected(model, op, cq, ptrs)
    if op.op in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
        return _pool(model, op)
    if op.op == "SOFTMAX":
        return _softmax(model, op)
    if op.op in _COPY_INPUTS:
        return _copy(model, op)
    return None
