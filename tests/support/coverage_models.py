"""The coverage models: small graphs that together use every kernel in microforge.model.ops.KERNELS
and every option those kernels support, each written as int8 and float32 .tflite files.

Written by tests/support/make_models.py (fixed seeds) into tests/models/coverage/ with
manifest.json (model -> the ops and options it uses, as `describe` reads them from the file).
Standalone int8 RELU6 is left out on purpose: microforge follows LiteRT there, not TFLM
(runtime/README.md); its float variant is here, and the int8 one is tested in tests/runtime.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np
import tflite

from support.coverage_graph import QUANTIZE, Graph, bc, be, conv, dwconv, fully_connected, pool
from support.tflite_build import NONE, RELU, RELU6, RELU_N1_TO_1

AVERAGE_POOL_2D, MAX_POOL_2D, SAME, VALID = bc.AVERAGE_POOL_2D, bc.MAX_POOL_2D, bc.SAME, bc.VALID
SOFTMAX_Q, LOGISTIC_Q, TANH_Q = (1 / 256, -128), (1 / 256, -128), (1 / 128, 0)


def conv_graph() -> Graph:
    g = Graph(seed=101)
    x = g.input([1, 16, 16, 3])
    c1 = conv(g, x, 8, (3, 3), SAME, (2, 2), (1, 1), RELU6, per_channel=True)
    d1 = dwconv(g, c1, 2, (3, 3), VALID, (1, 1), (2, 2), RELU, per_channel=False)
    c2 = conv(g, d1, 6, (2, 2), VALID, (1, 2), (2, 1), RELU_N1_TO_1, per_channel=False, bias=False)
    d2 = dwconv(g, c1, 1, (3, 3), SAME, (2, 1), (1, 1), NONE, per_channel=True)
    a1 = pool(g, AVERAGE_POOL_2D, d2, (2, 3), SAME, (2, 2), RELU)
    m1 = pool(g, MAX_POOL_2D, d2, (2, 2), VALID, (1, 2), RELU6)
    a2 = pool(g, AVERAGE_POOL_2D, m1, (2, 1), VALID, (1, 1), NONE)
    m2 = pool(g, MAX_POOL_2D, a1, (3, 3), SAME, (1, 1), RELU_N1_TO_1)
    d3 = dwconv(g, a2, 2, (2, 2), SAME, (1, 1), (1, 2), RELU6, per_channel=True)
    d4 = dwconv(g, m2, 1, (1, 2), VALID, (1, 1), (1, 1), RELU_N1_TO_1, per_channel=False)
    c3 = conv(g, d3, 4, (1, 1), VALID, (1, 1), (1, 1), RELU, per_channel=True)
    c4 = conv(g, d4, 5, (3, 2), SAME, (1, 1), (1, 1), NONE, per_channel=True, bias=False)
    g.outputs = [c2, c3, c4]
    return g


def dense_graph() -> Graph:
    g = Graph(seed=202)
    x = g.input([1, 2, 8])
    xq = g.op(QUANTIZE, [x], [1, 2, 8], v8=2,
              fixed=(2.1 / 255, 5), only="int8")  # int8 -> int8 requantization
    f1 = fully_connected(g, xq, 12, RELU, per_channel=True, keep_dims=True)
    f2 = fully_connected(g, f1, 10, RELU_N1_TO_1, per_channel=False, keep_dims=False, bias=False)
    f3 = fully_connected(g, f2, 6, RELU6, per_channel=True, keep_dims=False)
    f4 = fully_connected(g, f2, 6, NONE, per_channel=False, keep_dims=False)
    f5 = g.op(be.ADD, [f4, f3], [2, 6], options=be.options("AddOptions", FusedActivationFunction=RELU_N1_TO_1))
    r1 = g.op(be.RESHAPE, [f5, g.ints([1, 12])], [1, 12], v8=1, same=f5, options=be.options("ReshapeOptions"))
    s1 = g.op(be.SOFTMAX, [r1], [1, 12], fixed=SOFTMAX_Q, options=be.options("SoftmaxOptions", Beta=0.7), only="int8")
    r2 = g.op(be.RESHAPE, [f3], [12], v8=1, same=f3, options=be.options("ReshapeOptions"))
    s2 = g.op(be.SOFTMAX, [r2], [12], fixed=SOFTMAX_Q, options=be.options("SoftmaxOptions", Beta=1.0), only="int8")
    g.outputs = [s1, s2]
    return g


def elementwise_graph() -> Graph:
    g = Graph(seed=303)
    a, b = g.input([1, 4, 4, 3]), g.input([1, 1, 4, 1])
    rng = np.random.default_rng(33)
    shape = [1, 4, 4, 3]
    add = g.op(be.ADD, [a, b], shape, options=be.options("AddOptions", FusedActivationFunction=RELU))
    sub = g.op(be.SUB, [add, g.const(rng.uniform(0, 1, [3]))], shape,
               options=be.options("SubOptions", FusedActivationFunction=RELU6))
    mul = g.op(be.MUL, [sub, a], shape, options=be.options("MulOptions", FusedActivationFunction=NONE))
    mul2 = g.op(be.MUL, [b, g.const(rng.uniform(-2, 2, [1, 4, 1, 2]))], [1, 4, 4, 2],
                options=be.options("MulOptions", FusedActivationFunction=RELU_N1_TO_1))
    add2 = g.op(be.ADD, [mul, a], shape, options=be.options("AddOptions", FusedActivationFunction=NONE))
    sub2 = g.op(be.SUB, [a, mul], shape, options=be.options("SubOptions", FusedActivationFunction=RELU_N1_TO_1))
    add3 = g.op(be.ADD, [mul2, g.const(rng.uniform(-1, 1, [2]))], [1, 4, 4, 2],
                options=be.options("AddOptions", FusedActivationFunction=RELU6))
    mul3 = g.op(be.MUL, [sub2, add2], shape, options=be.options("MulOptions", FusedActivationFunction=RELU))
    sub3 = g.op(be.SUB, [add3, b], [1, 4, 4, 2], options=be.options("SubOptions", FusedActivationFunction=NONE))
    leaky = g.op(be.LEAKY_RELU, [add2], shape, options=be.options("LeakyReluOptions", Alpha=0.2))
    hs = g.op(be.HARD_SWISH, [mul3], shape, v8=1)
    lg = g.op(be.LOGISTIC, [leaky], shape, fixed=LOGISTIC_Q, only="int8")
    th = g.op(be.TANH, [sub3], [1, 4, 4, 2], fixed=TANH_Q, only="int8")
    relu = g.op(be.RELU, [leaky], shape)
    relu6 = g.op(be.RELU6, [relu], shape, only="float")  # int8 RELU6 follows LiteRT, not TFLM
    g.outputs = [lg, th, relu6, hs]
    return g


def shape_graph() -> Graph:
    g = Graph(seed=404)
    x = g.input([1, 3, 4, 5])
    rng = np.random.default_rng(44)
    n = g.op(be.SUB, [x, g.const(rng.uniform(-0.5, 0.5, [5]))], [1, 3, 4, 5],
             options=be.options("SubOptions", FusedActivationFunction=RELU))  # gives x its own quantization
    cat = g.op(be.CONCATENATION, [n, g.const(rng.uniform(-1, 1, [1, 3, 4, 2]), same=n), n], [1, 3, 4, 12],
               same=n, options=be.options("ConcatenationOptions", Axis=-1))
    cat2 = g.op(be.CONCATENATION, [n, n], [1, 6, 4, 5], same=n, options=be.options("ConcatenationOptions", Axis=1))
    pad = g.op(be.PAD, [cat, g.ints([[0, 0], [1, 0], [0, 2], [0, 0]])], [1, 4, 6, 12], same=cat,
               options=be.options("PadOptions"))
    pv = g.op(be.PADV2, [cat2, g.ints([[0, 0], [0, 1], [2, 1], [1, 0]]), g.const(np.float32(0.25), same=cat2)],
              [1, 7, 7, 6], same=cat2, options=be.options("PadV2Options"))
    m1 = g.op(be.MEAN, [pad, g.ints([1, 2])], [1, 1, 1, 12], options=be.options("ReducerOptions", KeepDims=True))
    m2 = g.op(be.MEAN, [pv, g.ints([-1])], [1, 7, 7], options=be.options("ReducerOptions", KeepDims=False))
    sq = g.op(be.SQUEEZE, [m1], [1, 12], v8=1, same=m1, options=be.squeeze_options([1, 2]))
    sq2 = g.op(be.SQUEEZE, [sq], [12], v8=1, same=sq, options=be.squeeze_options([]))
    ex = g.op(be.EXPAND_DIMS, [m2, g.ints([-1])], [1, 7, 7, 1], v8=1, same=m2, options=be.options("ExpandDimsOptions"))
    ex2 = g.op(be.EXPAND_DIMS, [sq2, g.ints([0])], [1, 12], v8=1, same=sq2, options=be.options("ExpandDimsOptions"))
    tr = g.op(be.TRANSPOSE, [pv, g.ints([0, 3, 1, 2])], [1, 6, 7, 7], same=pv, options=be.options("TransposeOptions"))
    ss = g.op(be.STRIDED_SLICE, [tr, g.ints([0, 5, 1, -1]), g.ints([1, 0, 6, 0]), g.ints([1, -2, 2, -3])],
              [3, 3, 2], same=tr, options=be.options("StridedSliceOptions", BeginMask=0, EndMask=2, ShrinkAxisMask=1))
    r = g.op(be.RESHAPE, [ex], [1, 49], v8=1, same=ex, options=be.options("ReshapeOptions"))
    g.outputs = [ex2, r, ss]
    return g


def libm_graph() -> Graph:
    """The float kernels with exponentials: SOFTMAX / LOGISTIC (own expf, exact everywhere) and
    TANH (libm's tanhf: bit-exact only where libm is TFLM's, glibc)."""
    g = Graph(seed=505)
    x = g.input([1, 2, 10])
    w = g.op(be.MUL, [x, g.const(np.float32(4.0))], [1, 2, 10],
             options=be.options("MulOptions", FusedActivationFunction=RELU6))
    s1 = g.op(be.SOFTMAX, [w], [1, 2, 10], options=be.options("SoftmaxOptions", Beta=0.7))
    s2 = g.op(be.SOFTMAX, [x], [1, 2, 10], options=be.options("SoftmaxOptions", Beta=1.0))
    g.outputs = [s1, s2, g.op(be.LOGISTIC, [w], [1, 2, 10]), g.op(be.TANH, [w], [1, 2, 10])]
    return g


# In the float variants SOFTMAX / LOGISTIC / TANH live only in cov_libm_float (newlib's tanhf
# differs from glibc's, so its TANH output is not bit-exact on Arm: runtime/README.md).
# name -> (graph, variant); variants: float, int8 (int8 I/O), int8_float_io (QUANTIZE / DEQUANTIZE around)
MODELS: dict[str, tuple[Callable[[], Graph], str]] = {
    "cov_conv_int8": (conv_graph, "int8"),
    "cov_conv_float": (conv_graph, "float"),
    "cov_dense_int8_float_io": (dense_graph, "int8_float_io"),
    "cov_dense_float": (dense_graph, "float"),
    "cov_elementwise_int8": (elementwise_graph, "int8"),
    "cov_elementwise_float": (elementwise_graph, "float"),
    "cov_shape_int8": (shape_graph, "int8"),
    "cov_shape_float": (shape_graph, "float"),
    "cov_libm_float": (libm_graph, "float"),
}
LIBM_MODELS = ("cov_libm_float",)


def make(name: str) -> bytes:
    graph, variant = MODELS[name]
    g = graph()
    if variant == "float":
        return g.float_model()[0]
    return g.int8_model(float_io=variant == "int8_float_io")


# --- what a model file uses (for the manifest, and checked against it) ---------------------------

_ACT = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6"}
_PAD = {0: "SAME", 1: "VALID"}
_OPTS = {
    "FULLY_CONNECTED": ("FullyConnectedOptions", ("FusedActivationFunction", "KeepNumDims")),
    "CONV_2D": ("Conv2DOptions", ("Padding", "StrideH", "StrideW", "DilationHFactor", "DilationWFactor",
                                  "FusedActivationFunction")),
    "DEPTHWISE_CONV_2D": ("DepthwiseConv2DOptions", ("Padding", "StrideH", "StrideW", "DilationHFactor",
                                                      "DilationWFactor", "DepthMultiplier", "FusedActivationFunction")),
    "AVERAGE_POOL_2D": ("Pool2DOptions", ("Padding", "StrideH", "StrideW", "FilterHeight", "FilterWidth",
                                          "FusedActivationFunction")),
    "ADD": ("AddOptions", ("FusedActivationFunction",)),
    "SUB": ("SubOptions", ("FusedActivationFunction",)),
    "MUL": ("MulOptions", ("FusedActivationFunction",)),
    "SOFTMAX": ("SoftmaxOptions", ("Beta",)),
    "MEAN": ("ReducerOptions", ("KeepDims",)),
    "CONCATENATION": ("ConcatenationOptions", ("Axis",)),
    "LEAKY_RELU": ("LeakyReluOptions", ("Alpha",)),
    "STRIDED_SLICE": ("StridedSliceOptions", ("BeginMask", "EndMask", "ShrinkAxisMask")),
}
_OPTS["MAX_POOL_2D"] = _OPTS["AVERAGE_POOL_2D"]
_VECTOR_INPUT = {"MEAN": (1, "axes"), "EXPAND_DIMS": (1, "axis"), "TRANSPOSE": (1, "perm"),
                 "STRIDED_SLICE": (3, "strides"), "PAD": (1, "paddings"), "PADV2": (1, "paddings")}
_NAMES = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
_TYPES = {0: "float32", 2: "int32", 9: "int8"}


def _value(field: str, v: object) -> str:
    if field == "FusedActivationFunction":
        return _ACT[int(v)]  # type: ignore[call-overload]
    if field == "Padding":
        return _PAD[int(v)]  # type: ignore[call-overload]
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(int(v)) if isinstance(v, bool | int) else str(v)


def _tensor_data(m: tflite.Model, t: tflite.Tensor) -> np.ndarray | None:
    buf = m.Buffers(t.Buffer())
    if buf is None or buf.DataLength() == 0:
        return None
    return buf.DataAsNumpy().view({2: np.int32, 9: np.int8, 0: np.float32}[t.Type()])


def describe(data: bytes) -> dict[str, list[str]]:
    """op name -> sorted option strings ("dtype=int8", "Padding=SAME", "weights=per_channel", ...)."""
    m = tflite.Model.GetRootAsModel(data, 0)
    sg = m.Subgraphs(0)
    out: dict[str, set[str]] = {}
    for k in range(sg.OperatorsLength()):
        op = sg.Operators(k)
        code = m.OperatorCodes(op.OpcodeIndex())
        name = _NAMES[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        ins = [sg.Tensors(i) if i >= 0 else None for i in op.InputsAsNumpy()]
        outs = [sg.Tensors(i) for i in op.OutputsAsNumpy()]
        got = out.setdefault(name, set())
        got.add(f"dtype={_TYPES[ins[0].Type()]}->{_TYPES[outs[0].Type()]}")
        if name in _OPTS:
            kind, fields = _OPTS[name]
            table = op.BuiltinOptions()
            assert table is not None, f"operator {k} ({name}) has no options"
            opts = getattr(importlib.import_module(f"tflite.{kind}"), kind)()
            opts.Init(table.Bytes, table.Pos)
            got.update(f"{f}={_value(f, getattr(opts, f)())}" for f in fields)
        if name == "SQUEEZE":
            table = op.BuiltinOptions()
            opts = importlib.import_module("tflite.SqueezeOptions").SqueezeOptions()
            opts.Init(table.Bytes, table.Pos)
            got.add(f"squeeze_dims={[int(v) for v in opts.SqueezeDimsAsNumpy()] if opts.SqueezeDimsLength() else []}")
        if name in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D"):
            w = ins[1]
            if w.Type() == 9:
                got.add("weights=per_channel" if w.Quantization().ScaleLength() > 1 else "weights=per_tensor")
            got.add("bias=yes" if len(ins) > 2 and ins[2] is not None else "bias=no")
        if name in ("ADD", "SUB", "MUL"):
            shapes = [list(t.ShapeAsNumpy()) for t in ins]
            got.add("broadcast=yes" if shapes[0] != shapes[1] else "broadcast=no")
            if any(_tensor_data(m, t) is not None for t in ins):
                got.add("constant_operand")
        if name == "CONCATENATION":
            got.add(f"inputs={len(ins)}")
            if any(_tensor_data(m, t) is not None for t in ins):
                got.add("constant_operand")
        if name == "RESHAPE":
            got.add("shape_tensor=yes" if len(ins) > 1 and ins[1] is not None else "shape_tensor=no")
        if name in _VECTOR_INPUT:
            idx, label = _VECTOR_INPUT[name]
            got.add(f"{label}={_tensor_data(m, ins[idx]).tolist()}")
        if name in ("QUANTIZE", "DEQUANTIZE", "RELU", "LEAKY_RELU", "HARD_SWISH", "LOGISTIC", "TANH", "MEAN") and \
                ins[0].Type() == 9 == outs[0].Type():
            same = ins[0].Quantization().ScaleAsNumpy().tolist() == outs[0].Quantization().ScaleAsNumpy().tolist()
            got.add("requantize=no" if same else "requantize=yes")
    return {k: sorted(v) for k, v in sorted(out.items())}
