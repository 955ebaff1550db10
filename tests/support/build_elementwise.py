"""Models for the element-wise, shape and activation kernel tests (on top of tflite_build)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

import flatbuffers
import numpy as np

from support import tflite_build as tb

_OPTION_TYPES = importlib.import_module("tflite.BuiltinOptions").BuiltinOptions

ADD, CONCATENATION, MUL, RESHAPE, SOFTMAX, PAD, MEAN, SUB, SQUEEZE = 0, 2, 18, 22, 25, 34, 40, 41, 43
PADV2, EXPAND_DIMS, RELU, RELU6, LEAKY_RELU, TRANSPOSE, STRIDED_SLICE = 60, 70, 19, 21, 98, 39, 45
LOGISTIC, TANH, HARD_SWISH = 14, 28, 117
OptionsHook = tuple[int, Callable[[flatbuffers.Builder], int]]


def options(kind: str, **fields: float | int) -> OptionsHook:
    """An options hook for tflite_build.Op: table `kind` with scalar fields (schema names)."""
    mod = importlib.import_module(f"tflite.{kind}")

    def make(b: flatbuffers.Builder) -> int:
        getattr(mod, f"{kind}Start")(b)
        for name, value in fields.items():
            getattr(mod, f"{kind}Add{name}")(b, value)
        return getattr(mod, f"{kind}End")(b)

    return getattr(_OPTION_TYPES, kind), make


def squeeze_options(dims: list[int]) -> OptionsHook:
    mod = importlib.import_module("tflite.SqueezeOptions")

    def make(b: flatbuffers.Builder) -> int:
        mod.SqueezeOptionsStartSqueezeDimsVector(b, len(dims))
        for d in reversed(dims):
            b.PrependInt32(d)
        vec = b.EndVector()
        mod.SqueezeOptionsStart(b)
        mod.SqueezeOptionsAddSqueezeDims(b, vec)
        return mod.SqueezeOptionsEnd(b)

    return _OPTION_TYPES.SqueezeOptions, make


def _qparams(rng: np.random.Generator, lo: float, hi: float) -> tuple[list[float], list[int]]:
    return [float(np.float32(10 ** rng.uniform(lo, hi)))], [int(rng.integers(-128, 128))]


def broadcast_shapes(rng: np.random.Generator, broadcast: bool) -> tuple[list[int], list[int], list[int]]:
    """Two input shapes (rank <= 4) and their broadcast output shape."""
    rank = int(rng.integers(1, 5))
    base = [int(v) for v in rng.integers(1, 6, rank)]
    if not broadcast:
        return base, list(base), list(base)
    shapes = []
    for _ in range(2):
        r = int(rng.integers(1, rank + 1))
        shapes.append([d if rng.random() < 0.5 else 1 for d in base[rank - r :]])
    out = [int(v) for v in np.broadcast_shapes(tuple(shapes[0]), tuple(shapes[1]))]
    return shapes[0], shapes[1], out


def binary_model(code: int, seed: int) -> bytes:
    """Random ADD / SUB / MUL: int8 or float, broadcasting, activation, constant or graph input 2."""
    rng = np.random.default_rng(seed)
    is_float = seed % 3 == 2
    s1, s2, so = broadcast_shapes(rng, broadcast=bool(rng.integers(0, 2)))
    act = int(rng.integers(0, 4))
    const2 = bool(rng.integers(0, 3) == 0)
    kind = {ADD: "AddOptions", SUB: "SubOptions", MUL: "MulOptions"}[code]
    if is_float:
        data2 = rng.normal(0, 3, s2).astype(np.float32) if const2 else None
        tensors = [tb.T(s1, tb.FLOAT32), tb.T(s2, tb.FLOAT32, data2), tb.T(so, tb.FLOAT32)]
    else:
        q1, q2 = _qparams(rng, -2.5, 0), _qparams(rng, -2.5, 0)
        if code == MUL:
            qo = ([float(np.float32(q1[0][0] * q2[0][0] * 10 ** rng.uniform(0, 2.5)))], [int(rng.integers(-128, 128))])
        else:
            qo = _qparams(rng, -2.5, 0.3)
        data2 = rng.integers(-128, 128, s2).astype(np.int8) if const2 else None
        tensors = [
            tb.T(s1, tb.INT8, scale=q1[0], zero_point=q1[1]),
            tb.T(s2, tb.INT8, data2, scale=q2[0], zero_point=q2[1]),
            tb.T(so, tb.INT8, scale=qo[0], zero_point=qo[1]),
        ]
    op = tb.Op(code, [0, 1], [2], version=1 if is_float else 2,
               options=options(kind, FusedActivationFunction=act))
    inputs = [0] if const2 else [0, 1]
    return tb.build(tensors, [op], inputs, [2])


def softmax_model(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    is_float = seed % 3 == 2
    shape = [int(v) for v in rng.integers(1, 4, int(rng.integers(0, 3)))] + [int(rng.integers(1, 40))]
    beta = float(np.float32(rng.choice([1.0, rng.uniform(0.05, 4.0)])))
    opt = options("SoftmaxOptions", Beta=beta)
    if is_float:
        tensors = [tb.T(shape, tb.FLOAT32), tb.T(shape, tb.FLOAT32)]
    else:
        s, z = _qparams(rng, -3, 0)
        out = tb.T(shape, tb.INT8, scale=[1 / 256], zero_point=[-128])
        tensors = [tb.T(shape, tb.INT8, scale=s, zero_point=z), out]
    return tb.build(tensors, [tb.Op(SOFTMAX, [0], [1], version=1 if is_float else 2, options=opt)], [0], [1])


def shape_model(code: int, seed: int) -> bytes:
    """RESHAPE (with and without a shape tensor), SQUEEZE or EXPAND_DIMS, int8 or float."""
    rng = np.random.default_rng(seed)
    dtype = tb.FLOAT32 if seed % 2 else tb.INT8
    q = {} if dtype == tb.FLOAT32 else {"scale": [0.05], "zero_point": [3]}
    if code == RESHAPE:
        src = [int(v) for v in rng.integers(1, 5, int(rng.integers(1, 5)))]
        n = int(np.prod(src))
        dst = [n] if n < 2 or rng.random() < 0.3 else [int(np.prod(src[:-1])), src[-1]]
        tensors = [tb.T(src, dtype, **q), tb.T(dst, dtype, **q)]
        ins = [0]
        if seed % 4 < 2:
            tensors.append(tb.T([len(dst)], tb.INT32, np.array(dst, np.int32)))
            ins = [0, 2]
        opt = options("ReshapeOptions")
    elif code == SQUEEZE:
        src = [1, int(rng.integers(1, 6)), 1, int(rng.integers(2, 6))]
        tensors = [tb.T(src, dtype, **q), tb.T([src[1], src[3]], dtype, **q)]
        ins, opt = [0], squeeze_options([0, 2] if seed % 3 else [])
    else:
        src = [int(v) for v in rng.integers(1, 5, int(rng.integers(1, 4)))]
        axis = int(rng.integers(-len(src) - 1, len(src) + 1))
        dst = list(src)
        dst.insert(axis if axis >= 0 else len(src) + 1 + axis, 1)
        tensors = [tb.T(src, dtype, **q), tb.T(dst, dtype, **q), tb.T([1], tb.INT32, np.array([axis], np.int32))]
        ins, opt = [0, 2], options("ExpandDimsOptions")
    return tb.build(tensors, [tb.Op(code, ins, [1], options=opt)], [0], [1])


def mean_model(in_shape: list[int], axes: list[int], keep: bool, quant: str, seed: int = 0) -> bytes:
    """MEAN over constant axes. quant: "float", "same" (input and output quantization equal) or "int8"."""
    rng = np.random.default_rng(seed)
    rank = len(in_shape)
    resolved = {a % rank for a in axes}
    out_shape = [1 if k in resolved else d for k, d in enumerate(in_shape)] if keep else [
        d for k, d in enumerate(in_shape) if k not in resolved]
    if quant == "float":
        tin, tout = tb.T(in_shape, tb.FLOAT32), tb.T(out_shape, tb.FLOAT32)
    else:
        qi = _qparams(rng, -2.5, 0)
        qo = qi if quant == "same" else _qparams(rng, -2.5, 0)
        tin = tb.T(in_shape, tb.INT8, scale=qi[0], zero_point=qi[1])
        tout = tb.T(out_shape, tb.INT8, scale=qo[0], zero_point=qo[1])
    tensors = [tin, tb.T([len(axes)], tb.INT32, np.array(axes, np.int32)), tout]
    opt = options("ReducerOptions", KeepDims=keep)
    op = tb.Op(MEAN, [0, 1], [2], version=1 if quant == "float" else 2, options=opt)
    return tb.build(tensors, [op], [0], [2])


def random_mean_model(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = [int(v) for v in rng.integers(1, 7, rank)]
    n_axes = int(rng.integers(1, rank + 1))
    axes = [int(a) - (rank if rng.random() < 0.3 else 0) for a in rng.choice(rank, n_axes, replace=False)]
    return mean_model(shape, axes, bool(rng.integers(0, 2)), ["float", "same", "int8"][seed % 3], seed)


def pad_model(seed: int) -> bytes:
    """PAD or PADV2 (constant value), int8 or float, rank 1-4, random paddings (some zero)."""
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = [int(v) for v in rng.integers(1, 5, rank)]
    pads = rng.integers(0, 3, (rank, 2)).astype(np.int32)
    out = [d + int(p.sum()) for d, p in zip(shape, pads, strict=True)]
    v2 = seed % 2 == 1
    if seed % 3 == 2:
        tin, tout = tb.T(shape, tb.FLOAT32), tb.T(out, tb.FLOAT32)
        tval = tb.T([], tb.FLOAT32, np.array(rng.normal(), np.float32))
    else:
        s, z = _qparams(rng, -2, 0)
        tin, tout = tb.T(shape, tb.INT8, scale=s, zero_point=z), tb.T(out, tb.INT8, scale=s, zero_point=z)
        tval = tb.T([], tb.INT8, np.array(rng.integers(-128, 128), np.int8), scale=s, zero_point=z)
    tensors = [tin, tb.T([rank, 2], tb.INT32, pads), tout] + ([tval] if v2 else [])
    op = tb.Op(PADV2 if v2 else PAD, [0, 1, 3] if v2 else [0, 1], [2], version=1 if seed % 3 == 2 else 2,
               options=options("PadV2Options" if v2 else "PadOptions"))
    return tb.build(tensors, [op], [0], [2])


def concat_model(seed: int) -> bytes:
    """CONCATENATION of 1-4 tensors (one may be constant) along a random (maybe negative) axis."""
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    base = [int(v) for v in rng.integers(1, 5, rank)]
    axis = int(rng.integers(0, rank))
    n = int(rng.integers(1, 5))
    sizes = [int(v) for v in rng.integers(1, 4, n)]
    is_float = seed % 3 == 2
    q = {} if is_float else dict(zip(("scale", "zero_point"), _qparams(rng, -2, 0), strict=True))
    dtype = tb.FLOAT32 if is_float else tb.INT8
    tensors = []
    for i, sz in enumerate(sizes):
        shape = base[:axis] + [sz] + base[axis + 1 :]
        data = None
        if i == 1 and seed % 2:
            data = rng.normal(0, 1, shape).astype(np.float32) if is_float else rng.integers(-128, 128, shape)
        tensors.append(tb.T(shape, dtype, data, **q))
    tensors.append(tb.T(base[:axis] + [sum(sizes)] + base[axis + 1 :], dtype, **q))
    opt = options("ConcatenationOptions", Axis=axis - (rank if seed % 4 == 0 else 0))
    op = tb.Op(CONCATENATION, list(range(n)), [n], version=1 if is_float else 2, options=opt)
    return tb.build(tensors, [op], [i for i in range(n) if tensors[i].data is None], [n])


def activation_model(code: int, seed: int, shape: list[int] | None = None) -> bytes:
    """RELU / RELU6 / LEAKY_RELU / HARD_SWISH; int8 with different input and output quantization, or float."""
    rng = np.random.default_rng(seed)
    shape = shape or [int(v) for v in rng.integers(1, 6, int(rng.integers(1, 4)))]
    if seed % 3 == 2:
        tensors = [tb.T(shape, tb.FLOAT32), tb.T(shape, tb.FLOAT32)]
    else:
        qi, qo = _qparams(rng, -2, 0), _qparams(rng, -2, 0)
        tin = tb.T(shape, tb.INT8, scale=qi[0], zero_point=qi[1])
        tensors = [tin, tb.T(shape, tb.INT8, scale=qo[0], zero_point=qo[1])]
    opt = options("LeakyReluOptions", Alpha=float(np.float32(rng.uniform(0, 1.5)))) if code == LEAKY_RELU else None
    version = 1 if seed % 3 == 2 or code == HARD_SWISH else 2
    return tb.build(tensors, [tb.Op(code, [0], [1], version=version, options=opt)], [0], [1])


def transpose_model(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 6))
    shape = [int(v) for v in rng.integers(1, 5, rank)]
    perm = [int(v) for v in rng.permutation(rank)]
    dtype = tb.FLOAT32 if seed % 2 else tb.INT8
    q = {} if dtype == tb.FLOAT32 else {"scale": [0.02], "zero_point": [-5]}
    tensors = [tb.T(shape, dtype, **q), tb.T([rank], tb.INT32, np.array(perm, np.int32)),
               tb.T([shape[p] for p in perm], dtype, **q)]
    op = tb.Op(TRANSPOSE, [0, 1], [2], version=1 if seed % 2 else 2, options=options("TransposeOptions"))
    return tb.build(tensors, [op], [0], [2])


def _slice_len(size: int, b: int, e: int, st: int, bm: bool, em: bool, shrink: bool) -> int:
    """Output extent of one axis (TFLite's strided_slice_logic), to size the output tensor."""
    b = b + size if b < 0 else b
    b = min(max(b, 0), size) if st > 0 else min(max(b, -1), size - 1)
    if bm:
        b = 0 if st > 0 else size - 1
    if shrink:
        return 1
    e = e + size if e < 0 else e
    e = min(max(e, 0), size) if st > 0 else min(max(e, -1), size - 1)
    if em:
        e = size if st > 0 else -1
    span = e - b if st > 0 else b - e
    return max(0, -(-span // abs(st)))


def strided_slice_model(seed: int) -> bytes | None:
    """Random STRIDED_SLICE (masks, negative indices / strides, shrink); None if it is empty."""
    rng = np.random.default_rng(seed)
    rank = int(rng.integers(1, 5))
    shape = [int(v) for v in rng.integers(1, 7, rank)]
    begin, end, strides, out = [], [], [], []
    bm, em, sm = (int(v) for v in rng.integers(0, 1 << rank, 3))
    sm &= int(rng.integers(0, 1 << rank))
    for k, size in enumerate(shape):
        st = int(rng.choice([1, 1, 2, 3, -1, -2]))
        b, e = int(rng.integers(-size - 1, size + 2)), int(rng.integers(-size - 1, size + 2))
        if sm >> k & 1:
            b, st = int(rng.integers(-size, size)), 1
        begin.append(b), end.append(e), strides.append(st)
        n = _slice_len(size, b, e, st, bool(bm >> k & 1), bool(em >> k & 1), bool(sm >> k & 1))
        if not sm >> k & 1:
            out.append(n)
        elif n == 0:
            return None
    if 0 in out:
        return None
    dtype = tb.FLOAT32 if seed % 2 else tb.INT8
    q = {} if dtype == tb.FLOAT32 else {"scale": [0.03], "zero_point": [7]}
    vec = [tb.T([rank], tb.INT32, np.array(v, np.int32)) for v in (begin, end, strides)]
    tensors = [tb.T(shape, dtype, **q), *vec, tb.T(out, dtype, **q)]
    opt = options("StridedSliceOptions", BeginMask=bm, EndMask=em, ShrinkAxisMask=sm)
    return tb.build(tensors, [tb.Op(STRIDED_SLICE, [0, 1, 2, 3], [4], version=2, options=opt)], [0], [4])


def sigmoid_model(code: int, seed: int, shape: list[int] | None = None) -> bytes:
    """LOGISTIC / TANH: int8 (random input quantization, the fixed output one) or float."""
    rng = np.random.default_rng(seed)
    shape = shape or [int(v) for v in rng.integers(1, 6, int(rng.integers(1, 4)))]
    if seed % 3 == 2:
        tensors = [tb.T(shape, tb.FLOAT32), tb.T(shape, tb.FLOAT32)]
    else:
        qi = _qparams(rng, -3, -0.5)
        qo = ([1 / 256], [-128]) if code == LOGISTIC else ([1 / 128], [0])
        tin = tb.T(shape, tb.INT8, scale=qi[0], zero_point=qi[1])
        tensors = [tin, tb.T(shape, tb.INT8, scale=qo[0], zero_point=qo[1])]
    return tb.build(tensors, [tb.Op(code, [0], [1], version=1 if seed % 3 == 2 else 2)], [0], [1])
