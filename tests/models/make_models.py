"""Make microforge's own test models: a small MLP fitted to sin(x) with numpy, written as
.tflite flatbuffers (float32, int8 with int8 I/O, int8 with float I/O via QUANTIZE/DEQUANTIZE).

Deterministic (fixed seed); the outputs are committed. Run: python tests/models/make_models.py
Expected outputs of these models always come from TFLM's interpreter at test time.
"""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
import tflite

OUT = Path(__file__).resolve().parents[2] / "generator" / "microforge" / "examples"
FLOAT32, INT32, INT8 = 0, 2, 9
ACT = {"none": 0, "relu": 1, "relu6": 3}
FC, QUANTIZE, DEQUANTIZE = 9, 114, 6


def train_sine(seed: int = 7, hidden: int = 16, steps: int = 8000) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fit y = sin(x) on [0, 2pi] with a 1-h-h-1 MLP, ReLU then ReLU6 (Adam, full batch)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 2 * np.pi, (1000, 1)).astype(np.float64)
    y = np.sin(x)
    sizes = [(1, hidden), (hidden, hidden), (hidden, 1)]
    params = [[rng.normal(0, np.sqrt(2 / i), (i, o)), np.zeros(o)] for i, o in sizes]
    m = [[np.zeros_like(p) for p in layer] for layer in params]
    v = [[np.zeros_like(p) for p in layer] for layer in params]
    for step in range(1, steps + 1):
        acts = [x]
        for k, (w, b) in enumerate(params):
            z = acts[-1] @ w + b
            acts.append(np.clip(z, 0, 6 if k == 1 else np.inf) if k < 2 else z)
        grad = 2 * (acts[-1] - y) / len(x)
        for k in reversed(range(3)):
            w, b = params[k]
            gw, gb = acts[k].T @ grad, grad.sum(0)
            upper = 6 if k == 2 else np.inf
            grad = (grad @ w.T) * ((acts[k] > 0) & (acts[k] < upper)) if k > 0 else None
            for j, g in enumerate((gw, gb)):
                m[k][j] = 0.9 * m[k][j] + 0.1 * g
                v[k][j] = 0.999 * v[k][j] + 0.001 * g * g
                mh, vh = m[k][j] / (1 - 0.9**step), v[k][j] / (1 - 0.999**step)
                params[k][j] -= 0.01 * mh / (np.sqrt(vh) + 1e-8)
    # TFLite FC weights are [out, in].
    return [(w.T.astype(np.float32), b.astype(np.float32)) for w, b in params]


def layer_ranges(layers, x: np.ndarray) -> list[tuple[float, float]]:
    ranges, a = [], x
    for k, (w, b) in enumerate(layers):
        a = a @ w.T + b
        if k < len(layers) - 1:
            a = np.clip(a, 0, 6 if k == 1 else np.inf)
        ranges.append((float(min(a.min(), 0.0)), float(max(a.max(), 0.0))))
    return ranges


def asym(lo: float, hi: float) -> tuple[float, int]:
    scale = (hi - lo) / 255.0
    return scale, int(np.clip(round(-128 - lo / scale), -128, 127))


class Writer:
    """Just enough of the TFLite schema to write FC/QUANTIZE/DEQUANTIZE graphs."""

    def __init__(self) -> None:
        self.b = flatbuffers.Builder(4096)
        self.buffers: list[bytes] = [b""]
        self.tensors: list[dict] = []
        self.ops: list[tuple[int, list[int], list[int], int | None]] = []
        self.codes: list[int] = []

    def tensor(self, name, shape, dtype, data: np.ndarray | None = None, scales=None, zps=None, axis=0) -> int:
        buf = 0
        if data is not None:
            self.buffers.append(np.ascontiguousarray(data).tobytes())
            buf = len(self.buffers) - 1
        self.tensors.append(dict(name=name, shape=shape, dtype=dtype, buf=buf, scales=scales, zps=zps, axis=axis))
        return len(self.tensors) - 1

    def op(self, code: int, inputs: list[int], outputs: list[int], act: int | None = None) -> None:
        if code not in self.codes:
            self.codes.append(code)
        self.ops.append((self.codes.index(code), inputs, outputs, act))

    def _ivec(self, start, values, add=None) -> int:
        start(self.b, len(values))
        for v in reversed(values):
            (add or self.b.PrependInt32)(v)
        return self.b.EndVector()

    def finish(self, inputs: list[int], outputs: list[int], versions: dict[int, int]) -> bytes:
        b, T = self.b, tflite
        buf_offs = []
        for data in self.buffers:
            vec = None
            if data:
                b.StartVector(1, len(data), 16)
                for byte in reversed(data):
                    b.PrependUint8(byte)
                vec = b.EndVector()
            T.BufferStart(b)
            if vec is not None:
                T.BufferAddData(b, vec)
            buf_offs.append(T.BufferEnd(b))
        t_offs = []
        for t in self.tensors:
            name = b.CreateString(t["name"])
            shape = self._ivec(T.TensorStartShapeVector, t["shape"])
            q = None
            if t["scales"] is not None:
                T.QuantizationParametersStartScaleVector(b, len(t["scales"]))
                for s in reversed(t["scales"]):
                    b.PrependFloat32(float(s))
                sv = b.EndVector()
                T.QuantizationParametersStartZeroPointVector(b, len(t["zps"]))
                for z in reversed(t["zps"]):
                    b.PrependInt64(int(z))
                zv = b.EndVector()
                T.QuantizationParametersStart(b)
                T.QuantizationParametersAddScale(b, sv)
                T.QuantizationParametersAddZeroPoint(b, zv)
                T.QuantizationParametersAddQuantizedDimension(b, t["axis"])
                q = T.QuantizationParametersEnd(b)
            T.TensorStart(b)
            T.TensorAddShape(b, shape)
            T.TensorAddType(b, t["dtype"])
            T.TensorAddBuffer(b, t["buf"])
            T.TensorAddName(b, name)
            if q is not None:
                T.TensorAddQuantization(b, q)
            t_offs.append(T.TensorEnd(b))
        op_offs = []
        for idx, ins, outs, act in self.ops:
            iv = self._ivec(T.OperatorStartInputsVector, ins)
            ov = self._ivec(T.OperatorStartOutputsVector, outs)
            opts = None
            if act is not None:
                T.FullyConnectedOptionsStart(b)
                T.FullyConnectedOptionsAddFusedActivationFunction(b, act)
                opts = T.FullyConnectedOptionsEnd(b)
            T.OperatorStart(b)
            T.OperatorAddOpcodeIndex(b, idx)
            T.OperatorAddInputs(b, iv)
            T.OperatorAddOutputs(b, ov)
            if opts is not None:
                T.OperatorAddBuiltinOptionsType(b, T.BuiltinOptions.FullyConnectedOptions)
                T.OperatorAddBuiltinOptions(b, opts)
            op_offs.append(T.OperatorEnd(b))
        tv = self._vec_of(T.SubGraphStartTensorsVector, t_offs)
        ov = self._vec_of(T.SubGraphStartOperatorsVector, op_offs)
        iv = self._ivec(T.SubGraphStartInputsVector, inputs)
        outv = self._ivec(T.SubGraphStartOutputsVector, outputs)
        sname = b.CreateString("main")
        T.SubGraphStart(b)
        T.SubGraphAddTensors(b, tv)
        T.SubGraphAddInputs(b, iv)
        T.SubGraphAddOutputs(b, outv)
        T.SubGraphAddOperators(b, ov)
        T.SubGraphAddName(b, sname)
        sg = T.SubGraphEnd(b)
        code_offs = []
        for code in self.codes:
            T.OperatorCodeStart(b)
            T.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
            T.OperatorCodeAddBuiltinCode(b, code)
            T.OperatorCodeAddVersion(b, versions.get(code, 1))
            code_offs.append(T.OperatorCodeEnd(b))
        cv = self._vec_of(T.ModelStartOperatorCodesVector, code_offs)
        sgv = self._vec_of(T.ModelStartSubgraphsVector, [sg])
        bv = self._vec_of(T.ModelStartBuffersVector, buf_offs)
        desc = b.CreateString("microforge test model (tests/models/make_models.py)")
        T.ModelStart(b)
        T.ModelAddVersion(b, 3)
        T.ModelAddOperatorCodes(b, cv)
        T.ModelAddSubgraphs(b, sgv)
        T.ModelAddDescription(b, desc)
        T.ModelAddBuffers(b, bv)
        b.Finish(T.ModelEnd(b), file_identifier=b"TFL3")
        return bytes(b.Output())

    def _vec_of(self, start, offsets) -> int:
        start(self.b, len(offsets))
        for o in reversed(offsets):
            self.b.PrependUOffsetTRelative(o)
        return self.b.EndVector()


def float_model(layers) -> bytes:
    w = Writer()
    x = w.tensor("input", [1, 1], FLOAT32)
    cur = x
    acts = ["relu", "relu6", "none"]
    for k, (wt, bias) in enumerate(layers):
        wi = w.tensor(f"fc{k}/weights", list(wt.shape), FLOAT32, wt)
        bi = w.tensor(f"fc{k}/bias", [wt.shape[0]], FLOAT32, bias)
        out = w.tensor(f"fc{k}/out", [1, wt.shape[0]], FLOAT32)
        w.op(FC, [cur, wi, bi], [out], ACT[acts[k]])
        cur = out
    return w.finish([x], [cur], {FC: 1})


def int8_model(layers, float_io: bool, per_channel: tuple[bool, ...]) -> bytes:
    xs = np.linspace(0, 2 * np.pi, 512, dtype=np.float32)[:, None]
    ranges = layer_ranges(layers, xs)
    acts = ["relu", "relu6", "none"]
    w = Writer()
    in_scale, in_zp = asym(0.0, 2 * np.pi)
    if float_io:
        fin = w.tensor("input", [1, 1], FLOAT32)
        cur = w.tensor("input_q", [1, 1], INT8, scales=[in_scale], zps=[in_zp])
        w.op(QUANTIZE, [fin], [cur])
    else:
        fin = cur = w.tensor("input", [1, 1], INT8, scales=[in_scale], zps=[in_zp])
    cur_scale = in_scale
    for k, (wt, bias) in enumerate(layers):
        amax = np.maximum(np.abs(wt).max(axis=1), 1e-8)
        if per_channel[k]:
            ws = amax / 127.0
        else:
            ws = np.full(wt.shape[0], amax.max() / 127.0)
        wq = np.clip(np.round(wt / ws[:, None]), -127, 127).astype(np.int8)
        bs = cur_scale * ws
        bq = np.round(bias / bs).astype(np.int32)
        nch = wt.shape[0] if per_channel[k] else 1
        wi = w.tensor(f"fc{k}/weights", list(wt.shape), INT8, wq, scales=list(ws[:nch]), zps=[0] * nch)
        bi = w.tensor(f"fc{k}/bias", [wt.shape[0]], INT32, bq, scales=list(bs[:nch]), zps=[0] * nch)
        lo, hi = ranges[k]
        if acts[k] == "relu6":
            hi = min(hi, 6.0)
        oscale, ozp = asym(lo, hi)
        out = w.tensor(f"fc{k}/out", [1, wt.shape[0]], INT8, scales=[oscale], zps=[ozp])
        w.op(FC, [cur, wi, bi], [out], ACT[acts[k]])
        cur, cur_scale = out, oscale
    if float_io:
        fout = w.tensor("output", [1, 1], FLOAT32)
        w.op(DEQUANTIZE, [cur], [fout])
        cur = fout
    return w.finish([fin], [cur], {FC: 5 if any(per_channel) else 4, QUANTIZE: 1, DEQUANTIZE: 2})


def main() -> None:
    layers = train_sine()
    OUT.mkdir(parents=True, exist_ok=True)
    models = {
        "sine_float.tflite": float_model(layers),
        "sine_int8.tflite": int8_model(layers, float_io=False, per_channel=(True, False, True)),
        "sine_int8_float_io.tflite": int8_model(layers, float_io=True, per_channel=(True, True, False)),
    }
    for name, data in models.items():
        (OUT / name).write_bytes(data)
        print(f"wrote {OUT / name} ({len(data)} B)")


if __name__ == "__main__":
    main()
