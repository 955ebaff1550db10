"""Builds random CONV_2D / DEPTHWISE_CONV_2D / AVERAGE_POOL_2D / MAX_POOL_2D test models."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import flatbuffers
import numpy as np

from support import tflite_build as tb

Conv2DOptions, DepthwiseConv2DOptions, Pool2DOptions = (
    importlib.import_module(f"tflite.{n}") for n in ("Conv2DOptions", "DepthwiseConv2DOptions", "Pool2DOptions")
)

AVERAGE_POOL_2D, CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D = 1, 3, 4, 17
SAME, VALID = 0, 1
_OPT_CONV, _OPT_DW, _OPT_POOL = 1, 2, 5  # BuiltinOptions union types

Options = tuple[int, Callable[[flatbuffers.Builder], int]]


def conv_options(padding: int, stride: tuple[int, int], act: int, dilation: tuple[int, int]) -> Options:
    """stride / dilation are (h, w)."""

    def make(b: flatbuffers.Builder) -> int:
        m = Conv2DOptions
        m.Conv2DOptionsStart(b)
        m.Conv2DOptionsAddPadding(b, padding)
        m.Conv2DOptionsAddStrideW(b, stride[1])
        m.Conv2DOptionsAddStrideH(b, stride[0])
        m.Conv2DOptionsAddFusedActivationFunction(b, act)
        m.Conv2DOptionsAddDilationWFactor(b, dilation[1])
        m.Conv2DOptionsAddDilationHFactor(b, dilation[0])
        return m.Conv2DOptionsEnd(b)

    return _OPT_CONV, make


def dw_options(padding: int, stride: tuple[int, int], mult: int, act: int, dilation: tuple[int, int]) -> Options:
    def make(b: flatbuffers.Builder) -> int:
        m = DepthwiseConv2DOptions
        m.DepthwiseConv2DOptionsStart(b)
        m.DepthwiseConv2DOptionsAddPadding(b, padding)
        m.DepthwiseConv2DOptionsAddStrideW(b, stride[1])
        m.DepthwiseConv2DOptionsAddStrideH(b, stride[0])
        m.DepthwiseConv2DOptionsAddDepthMultiplier(b, mult)
        m.DepthwiseConv2DOptionsAddFusedActivationFunction(b, act)
        m.DepthwiseConv2DOptionsAddDilationWFactor(b, dilation[1])
        m.DepthwiseConv2DOptionsAddDilationHFactor(b, dilation[0])
        return m.DepthwiseConv2DOptionsEnd(b)

    return _OPT_DW, make


def pool_options(padding: int, stride: tuple[int, int], filt: tuple[int, int], act: int) -> Options:
    def make(b: flatbuffers.Builder) -> int:
        m = Pool2DOptions
        m.Pool2DOptionsStart(b)
        m.Pool2DOptionsAddPadding(b, padding)
        m.Pool2DOptionsAddStrideW(b, stride[1])
        m.Pool2DOptionsAddStrideH(b, stride[0])
        m.Pool2DOptionsAddFilterWidth(b, filt[1])
        m.Pool2DOptionsAddFilterHeight(b, filt[0])
        m.Pool2DOptionsAddFusedActivationFunction(b, act)
        return m.Pool2DOptionsEnd(b)

    return _OPT_POOL, make


def out_size(padding: int, size: int, filt: int, stride: int, dilation: int = 1) -> int:
    """TFLite's ComputeOutSize."""
    eff = (filt - 1) * dilation + 1
    return (size + stride - 1) // stride if padding == SAME else (size + stride - eff) // stride


@dataclass
class Case:
    """One window-op configuration; the model builders below draw the rest at random."""

    kind: str  # "conv", "dw", "avg", "max"
    is_float: bool
    act: int
    padding: int
    per_channel: bool = False
    stride: tuple[int, int] = (1, 1)
    dilation: tuple[int, int] = (1, 1)
    mult: int = 1

    def __str__(self) -> str:
        q = "f32" if self.is_float else ("pc" if self.per_channel else "pt")
        pad = "same" if self.padding == SAME else "valid"
        return f"{self.kind}-{q}-act{self.act}-{pad}-s{self.stride}-d{self.dilation}-m{self.mult}"


def cases(kind: str) -> list[Case]:
    """Every activation x padding for float and int8 (conv: per-tensor and per-channel), with
    strides, dilations and depth multipliers 1 and 2 spread over them."""
    out = []
    for i, (is_float, per_channel, act, padding) in enumerate(
        (f, pc, a, p) for f in (False, True) for pc in (False, True) for a in range(4) for p in (SAME, VALID)
    ):
        if is_float and per_channel:
            continue
        if kind in ("avg", "max") and per_channel:
            continue
        stride = (1 + i % 2, 1 + (i // 2) % 2)
        dilation = (1 + (i // 3) % 2, 1 + (i // 5) % 2) if kind in ("conv", "dw") else (1, 1)
        mult = 1 + (i // 4) % 2 if kind == "dw" else 1
        out.append(Case(kind, is_float, act, padding, per_channel, stride, dilation, mult))
    return out


def _geometry(
    rng: np.random.Generator, c: Case, fh: int, fw: int, size: tuple[int, int] | None = None
) -> tuple[int, int, int, int]:
    """Input height / width large enough for a VALID window (or `size`), and the output extent."""
    eff_h, eff_w = (fh - 1) * c.dilation[0] + 1, (fw - 1) * c.dilation[1] + 1
    h, w = int(rng.integers(eff_h, eff_h + 7)), int(rng.integers(eff_w, eff_w + 7))
    h, w = size if size is not None else (h, w)
    oh = out_size(c.padding, h, fh, c.stride[0], c.dilation[0])
    ow = out_size(c.padding, w, fw, c.stride[1], c.dilation[1])
    return h, w, oh, ow


def conv_model(
    c: Case,
    seed: int,
    bias: bool | None = None,
    max_filter: int = 3,
    max_cin: int = 5,
    max_cout: int = 6,
    *,
    filt: tuple[int, int] | None = None,
    cin: int | None = None,
    in_zp: int | None = None,
    dead: int = 0,
    size: tuple[int, int] | None = None,
) -> bytes:
    """CONV_2D or DEPTHWISE_CONV_2D with random shapes, weights, scales and zero points; filt, cin
    in_zp and size fix the filter size, the input depth, the input zero point and the input's height
    and width (the other draws stay).
    dead > 0 (per-channel int8): the first `dead` output channels are pruned ones, as in VWW: no
    weights, a scale of 1e-9 and biases near +-2^29."""
    rng = np.random.default_rng(seed)
    fh, fw = int(rng.integers(1, max_filter + 1)), int(rng.integers(1, max_filter + 1))
    fh, fw = filt if filt is not None else (fh, fw)
    h, w, oh, ow = _geometry(rng, c, fh, fw, size)
    batch, drawn_cin = int(rng.integers(1, 3)), int(rng.integers(1, max_cin + 1))
    cin = drawn_cin if cin is None else cin
    cout = cin * c.mult if c.kind == "dw" else int(rng.integers(1, max_cout + 1))
    wshape = [1, fh, fw, cout] if c.kind == "dw" else [cout, fh, fw, cin]
    qdim = 3 if c.kind == "dw" else 0
    use_bias = bool(rng.integers(0, 4)) if bias is None else bias  # mostly with bias
    if c.kind == "dw" and bias is None:
        use_bias = True  # tflite-micro's DEPTHWISE_CONV_2D crashes (SIGSEGV) without a bias
    if c.kind == "dw":
        opts = dw_options(c.padding, c.stride, c.mult, c.act, c.dilation)
    else:
        opts = conv_options(c.padding, c.stride, c.act, c.dilation)
    code = DEPTHWISE_CONV_2D if c.kind == "dw" else CONV_2D
    if c.is_float:
        tensors = [
            tb.T([batch, h, w, cin], tb.FLOAT32),
            tb.T(wshape, tb.FLOAT32, rng.normal(0, 0.5, wshape).astype(np.float32)),
            tb.T([cout], tb.FLOAT32, rng.normal(0, 0.5, cout).astype(np.float32)),
            tb.T([batch, oh, ow, cout], tb.FLOAT32),
        ]
        version = 2 if c.kind == "dw" and c.dilation != (1, 1) else 1
    else:
        in_s, drawn_zp = float(np.float32(10 ** rng.uniform(-3, 0))), int(rng.integers(-128, 128))
        in_zp = drawn_zp if in_zp is None else in_zp
        n = cout if c.per_channel else 1
        ws = [float(x) for x in (10 ** rng.uniform(-3, -1, n)).astype(np.float32)]
        taps = fh * fw * (1 if c.kind == "dw" else cin)
        out_s = float(np.float32(in_s * float(np.mean(ws)) * np.sqrt(taps) * rng.uniform(30, 300)))
        out_zp = int(rng.integers(-128, 128))
        weights = rng.integers(-127, 128, wshape).astype(np.int8)
        biases = rng.integers(-30000, 30000, cout).astype(np.int32)
        dead = min(dead, n) if c.per_channel else 0
        if dead:
            ws[:dead] = [1e-9] * dead
            (weights[..., :dead] if c.kind == "dw" else weights[:dead])[...] = 0
            biases[:dead] = rng.integers(1 << 28, 1 << 29, dead) * rng.choice([-1, 1], dead)
        tensors = [
            tb.T([batch, h, w, cin], tb.INT8, scale=[in_s], zero_point=[in_zp]),
            tb.T(wshape, tb.INT8, weights, ws, [0] * n, qdim),
            tb.T(
                [cout],
                tb.INT32,
                biases,
                [float(np.float32(in_s * s)) for s in ws],
                [0] * n,
            ),
            tb.T([batch, oh, ow, cout], tb.INT8, scale=[out_s], zero_point=[out_zp]),
        ]
        version = 3
    op = tb.Op(code, [0, 1, 2 if use_bias else -1], [3], version=version, options=opts)
    return tb.build(tensors, [op], [0], [3])


def pool_model(
    c: Case, seed: int, *, filt: tuple[int, int] | None = None, ch: int | None = None,
    size: tuple[int, int] | None = None,
) -> bytes:
    """AVERAGE_POOL_2D or MAX_POOL_2D with random shapes; filt, ch and size fix the window, the
    depth and the input's height and width."""
    rng = np.random.default_rng(seed)
    fh, fw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    fh, fw = filt if filt is not None else (fh, fw)
    h, w, oh, ow = _geometry(rng, c, fh, fw, size)
    batch, drawn_ch = int(rng.integers(1, 3)), int(rng.integers(1, 6))
    ch = drawn_ch if ch is None else ch
    if c.is_float:
        q: dict = {}
        dtype = tb.FLOAT32
    else:
        q = {"scale": [float(np.float32(10 ** rng.uniform(-2, 0)))], "zero_point": [int(rng.integers(-128, 128))]}
        dtype = tb.INT8
    tensors = [tb.T([batch, h, w, ch], dtype, **q), tb.T([batch, oh, ow, ch], dtype, **q)]
    code = AVERAGE_POOL_2D if c.kind == "avg" else MAX_POOL_2D
    opts = pool_options(c.padding, c.stride, (fh, fw), c.act)
    op = tb.Op(code, [0], [1], version=1 if c.is_float else 2, options=opts)
    return tb.build(tensors, [op], [0], [1])


def model_for(c: Case, seed: int) -> bytes:
    return pool_model(c, seed) if c.kind in ("avg", "max") else conv_model(c, seed)
