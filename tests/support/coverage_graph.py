"""A small graph description that lowers to a float32 .tflite and to an int8 one (tflite_build).

The int8 lowering quantizes weights (per-channel or per-tensor, symmetric), biases (int32,
input scale x weight scale) and activations; activation ranges come from running the float
graph (every intermediate tensor made an output) in TFLM's Python interpreter on seeded
uniform [-1, 1] inputs and taking min / max with numpy, so int8 outputs are not saturated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from support import build_conv as bc
from support import build_elementwise as be
from support import tflite_build as tb

QUANTIZE, DEQUANTIZE, FULLY_CONNECTED = tb.QUANTIZE, tb.DEQUANTIZE, tb.FULLY_CONNECTED
CALIBRATION_SAMPLES = 256


@dataclass
class Ten:
    shape: list[int]
    role: str  # input | act | weight | bias | int32 | const
    data: np.ndarray | None = None
    qdim: int | None = None  # weight: per-channel axis; None = per-tensor
    same: int | None = None  # act / const: share this tensor's quantization
    fixed: tuple[float, int] | None = None  # act: fixed (scale, zero point)
    bias_of: tuple[int, int] | None = None  # bias: (input, weight)
    name: str = ""


@dataclass
class Node:
    code: int
    ins: list[int]
    out: int
    v8: int
    vf: int
    options: be.OptionsHook | None = None
    fc: tuple[int, bool] | None = None
    only: str | None = None  # "int8" / "float": the node exists only in that lowering (else an identity)


@dataclass
class Graph:
    seed: int
    t: list[Ten] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[int] = field(default_factory=list)
    outputs: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def _add(self, ten: Ten) -> int:
        ten.name = ten.name or f"{ten.role}{len(self.t)}"
        self.t.append(ten)
        return len(self.t) - 1

    def input(self, shape: list[int]) -> int:
        self.inputs.append(self._add(Ten(list(shape), "input", name=f"input{len(self.inputs)}")))
        return self.inputs[-1]

    def weight(self, shape: list[int], qdim: int | None, std: float = 0.5) -> int:
        return self._add(Ten(list(shape), "weight", self.rng.normal(0, std, shape).astype(np.float32), qdim=qdim))

    def bias(self, n: int, inp: int, weight: int, std: float = 0.2) -> int:
        return self._add(Ten([n], "bias", self.rng.normal(0, std, n).astype(np.float32), bias_of=(inp, weight)))

    def ints(self, values: list[int] | list[list[int]]) -> int:
        data = np.array(values, np.int32)
        return self._add(Ten(list(data.shape), "int32", data))

    def const(self, data: np.ndarray, same: int | None = None) -> int:
        data = np.asarray(data, np.float32)
        return self._add(Ten(list(data.shape), "const", data, same=same))

    def op(self, code: int, ins: list[int], shape: list[int], *, v8: int = 2, vf: int = 1,
           options: be.OptionsHook | None = None, fc: tuple[int, bool] | None = None, same: int | None = None,
           fixed: tuple[float, int] | None = None, only: str | None = None) -> int:
        out = self._add(Ten(list(shape), "act", same=same, fixed=fixed))
        self.nodes.append(Node(code, list(ins), out, v8, vf, options, fc, only))
        return out

    # --- lowering ---------------------------------------------------------------------------

    def _aliases(self, kind: str) -> dict[int, int]:
        """Outputs of nodes absent from this lowering -> the tensor they stand for."""
        alias: dict[int, int] = {}
        for n in self.nodes:
            if n.only is not None and n.only != kind:
                alias[n.out] = alias.get(n.ins[0], n.ins[0])
        return alias

    def float_model(self, calibrate: bool = False) -> tuple[bytes, list[int]]:
        """The float32 model; with `calibrate` every activation is an output too. Returns the
        bytes and the graph tensor index of each output."""
        alias = self._aliases("float")
        keep = [i for i in range(len(self.t)) if i not in alias]
        index = {old: new for new, old in enumerate(keep)}
        for a, target in alias.items():
            index[a] = index[target]
        tensors = []
        for i in keep:
            ten = self.t[i]
            dtype = tb.INT32 if ten.role == "int32" else tb.FLOAT32
            tensors.append(tb.T(ten.shape, dtype, ten.data, name=ten.name))
        ops = [tb.Op(n.code, [index[i] if i >= 0 else -1 for i in n.ins], [index[n.out]], version=n.vf,
                     fc=n.fc, options=n.options) for n in self.nodes if n.only in (None, "float")]
        outs = list(self.outputs)
        if calibrate:
            outs += [i for i in keep if self.t[i].role == "act" and i not in outs]
        model = tb.build(tensors, ops, [index[i] for i in self.inputs], [index[i] for i in outs],
                         "microforge coverage model (tests/models/make_models.py)")
        return model, outs

    def ranges(self) -> dict[int, tuple[float, float]]:
        """Per activation tensor: (min, max) over seeded random inputs, 0 included."""
        from tflite_micro.python.tflite_micro import runtime

        model, outs = self.float_model(calibrate=True)
        interp = runtime.Interpreter.from_bytes(model, arena_size=4 << 20)
        rng = np.random.default_rng(self.seed + 1000)
        lo = {i: 0.0 for i in outs}
        hi = {i: 0.0 for i in outs}
        for _ in range(CALIBRATION_SAMPLES):
            for k, i in enumerate(self.inputs):
                interp.set_input(rng.uniform(-1, 1, self.t[i].shape).astype(np.float32), k)
            interp.invoke()
            for k, i in enumerate(outs):
                y = np.asarray(interp.get_output(k))
                lo[i], hi[i] = min(lo[i], float(y.min())), max(hi[i], float(y.max()))
        for i in self.inputs:
            lo[i], hi[i] = -1.0, 1.0
        return {i: (lo[i], hi[i]) for i in lo}

    def int8_model(self, float_io: bool = False) -> bytes:
        ranges = self.ranges()
        alias = self._aliases("int8")
        q: dict[int, tuple[list[float], list[int]]] = {}
        tensors: list[tb.T] = []
        index: dict[int, int] = {}
        for i, ten in enumerate(self.t):
            if i in alias:
                index[i] = index[alias[i]]
                continue
            index[i] = len(tensors)
            tensors.append(self._int8_tensor(i, ten, q, ranges))
        ops = [tb.Op(n.code, [index[i] if i >= 0 else -1 for i in n.ins], [index[n.out]], version=n.v8,
                     fc=n.fc, options=n.options) for n in self.nodes if n.only in (None, "int8")]
        ins, outs = [index[i] for i in self.inputs], [index[i] for i in self.outputs]
        if float_io:
            pre, post = [], []
            for k, i in enumerate(ins):
                tensors.append(tb.T(tensors[i].shape, tb.FLOAT32, name=f"input{k}_float"))
                pre.append(tb.Op(QUANTIZE, [len(tensors) - 1], [i], version=1))
                ins[k] = len(tensors) - 1
            for k, i in enumerate(outs):
                tensors.append(tb.T(tensors[i].shape, tb.FLOAT32, name=f"output{k}_float"))
                post.append(tb.Op(DEQUANTIZE, [i], [len(tensors) - 1], version=2))
                outs[k] = len(tensors) - 1
            ops = pre + ops + post
        return tb.build(tensors, ops, ins, outs, "microforge coverage model (tests/models/make_models.py)")

    def _int8_tensor(self, i: int, ten: Ten, q: dict, ranges: dict[int, tuple[float, float]]) -> tb.T:
        if ten.role == "int32":
            return tb.T(ten.shape, tb.INT32, ten.data, name=ten.name)
        if ten.role == "weight":
            assert ten.data is not None
            axes = tuple(a for a in range(ten.data.ndim) if a != ten.qdim)
            amax = np.abs(ten.data).max(axis=axes) if ten.qdim is not None else np.abs(ten.data).max().reshape(1)
            scales = np.maximum(amax, 1e-6).astype(np.float32) / np.float32(127)
            shape = [-1 if a == ten.qdim else 1 for a in range(ten.data.ndim)] if ten.qdim is not None else [1]
            data = np.clip(np.round(ten.data / scales.reshape(shape)), -127, 127).astype(np.int8)
            q[i] = ([float(s) for s in scales], [0] * len(scales))
            return tb.T(ten.shape, tb.INT8, data, q[i][0], q[i][1], ten.qdim or 0, ten.name)
        if ten.role == "bias":
            assert ten.data is not None and ten.bias_of is not None
            s_in = np.float32(q[ten.bias_of[0]][0][0])
            s_w = np.array(q[ten.bias_of[1]][0], np.float32)
            scales = (s_in * s_w).astype(np.float32)
            data = np.round(ten.data / scales).astype(np.int32)
            return tb.T(ten.shape, tb.INT32, data, [float(s) for s in scales], [0] * len(scales), 0, ten.name)
        if ten.same is not None:
            q[i] = q[ten.same]
        elif ten.fixed is not None:
            q[i] = ([ten.fixed[0]], [ten.fixed[1]])
        elif ten.role == "const":
            assert ten.data is not None
            q[i] = asym(float(min(ten.data.min(), 0)), float(max(ten.data.max(), 0)))
        else:
            q[i] = asym(*ranges[i])
        data = None
        if ten.data is not None:
            s, z = q[i][0][0], q[i][1][0]
            data = np.clip(np.round(ten.data / np.float32(s)) + z, -128, 127).astype(np.int8)
        return tb.T(ten.shape, tb.INT8, data, q[i][0], q[i][1], 0, ten.name)


def asym(lo: float, hi: float) -> tuple[list[float], list[int]]:
    """int8 asymmetric quantization covering [lo, hi] (which holds 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    if hi - lo < 1e-6:
        hi = lo + 1e-3
    scale = float(np.float32((hi - lo) / 255.0))
    return [scale], [int(np.clip(round(-128 - lo / scale), -128, 127))]


# --- op helpers ---------------------------------------------------------------------------------


def conv(g: Graph, x: int, cout: int, k: tuple[int, int], padding: int, stride: tuple[int, int],
         dilation: tuple[int, int], act: int, per_channel: bool, bias: bool = True) -> int:
    n, h, w, cin = g.t[x].shape
    wt = g.weight([cout, k[0], k[1], cin], 0 if per_channel else None, std=1 / np.sqrt(k[0] * k[1] * cin))
    b = g.bias(cout, x, wt) if bias else -1
    oh = bc.out_size(padding, h, k[0], stride[0], dilation[0])
    ow = bc.out_size(padding, w, k[1], stride[1], dilation[1])
    return g.op(bc.CONV_2D, [x, wt, b], [n, oh, ow, cout], v8=3, vf=1,
                options=bc.conv_options(padding, stride, act, dilation))


def dwconv(g: Graph, x: int, mult: int, k: tuple[int, int], padding: int, stride: tuple[int, int],
           dilation: tuple[int, int], act: int, per_channel: bool) -> int:
    n, h, w, cin = g.t[x].shape
    cout = cin * mult
    wt = g.weight([1, k[0], k[1], cout], 3 if per_channel else None, std=1 / np.sqrt(k[0] * k[1]))
    b = g.bias(cout, x, wt)  # TFLM's DEPTHWISE_CONV_2D crashes without a bias
    oh = bc.out_size(padding, h, k[0], stride[0], dilation[0])
    ow = bc.out_size(padding, w, k[1], stride[1], dilation[1])
    return g.op(bc.DEPTHWISE_CONV_2D, [x, wt, b], [n, oh, ow, cout], v8=3, vf=2 if dilation != (1, 1) else 1,
                options=bc.dw_options(padding, stride, mult, act, dilation))


def pool(g: Graph, code: int, x: int, k: tuple[int, int], padding: int, stride: tuple[int, int], act: int) -> int:
    n, h, w, c = g.t[x].shape
    oh, ow = bc.out_size(padding, h, k[0], stride[0]), bc.out_size(padding, w, k[1], stride[1])
    return g.op(code, [x], [n, oh, ow, c], v8=2, vf=1, same=x, options=bc.pool_options(padding, stride, k, act))


def fully_connected(g: Graph, x: int, units: int, act: int, per_channel: bool, keep_dims: bool,
                    bias: bool = True) -> int:
    shape = g.t[x].shape
    depth = shape[-1]
    wt = g.weight([units, depth], 0 if per_channel else None, std=1 / np.sqrt(depth))
    b = g.bias(units, x, wt) if bias else -1
    out = shape[:-1] + [units] if keep_dims else [int(np.prod(shape[:-1])), units]
    return g.op(FULLY_CONNECTED, [x, wt, b], out, v8=5, vf=1, fc=(act, keep_dims))
