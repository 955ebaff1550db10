"""Make microforge's own test models, all with tests/support/tflite_build.py:

- the bundled examples (generator/microforge/examples): a small MLP fitted to sin(x) with
  numpy, as float32, int8 with int8 I/O, and int8 with float I/O via QUANTIZE/DEQUANTIZE;
- the coverage models (tests/models/coverage/*.tflite + manifest.json, see coverage_models.py),
  which together use every kernel the runtime has and every option of those kernels.

Deterministic (fixed seeds); the outputs are committed. Needs numpy, flatbuffers, tflite and
tflite-micro (activation ranges of the coverage models are calibrated on TFLM's float run); no
TensorFlow. Run: PYTHONPATH=tests .venv/bin/python -m support.make_models
Expected outputs of these models always come from TFLM's interpreter at test time.
"""

from __future__ import annotations

import json

import numpy as np

from support import ROOT
from support import tflite_build as tb
from support.tflite_build import DEQUANTIZE, FLOAT32, INT8, INT32, QUANTIZE

OUT = ROOT / "generator" / "microforge" / "examples"
COVERAGE = ROOT / "tests" / "models" / "coverage"
# Written into every model: the path it names is the one of the committed models (kept byte for byte).
DESCRIPTION = "microforge test model (tests/models/make_models.py)"
ACT = {"none": tb.NONE, "relu": tb.RELU, "relu6": tb.RELU6}
FC = tb.FULLY_CONNECTED


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
    """The small tensor / op / finish interface some tests build ad-hoc models with, on top of
    tests/support/tflite_build.py (the one flatbuffer writer of the test suite)."""

    def __init__(self) -> None:
        self.tensors: list[tb.T] = []
        self.ops: list[tuple[int, list[int], list[int], int | None]] = []

    def tensor(self, name: str, shape: list[int], dtype: int, data: np.ndarray | None = None,
               scales: list[float] | None = None, zps: list[int] | None = None, axis: int = 0) -> int:
        self.tensors.append(tb.T(list(shape), dtype, data, scales, zps, axis, name))
        return len(self.tensors) - 1

    def op(self, code: int, inputs: list[int], outputs: list[int], act: int | None = None) -> None:
        """`act` (a fused activation) gives the operator FullyConnectedOptions."""
        self.ops.append((code, inputs, outputs, act))

    def finish(self, inputs: list[int], outputs: list[int], versions: dict[int, int]) -> bytes:
        ops = [tb.Op(code, ins, outs, version=versions.get(code, 1), fc=None if act is None else (act, False))
               for code, ins, outs, act in self.ops]
        return tb.build(self.tensors, ops, inputs, outputs, DESCRIPTION)


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


def write_coverage() -> None:
    from support.coverage_models import MODELS, describe, make

    COVERAGE.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for name in MODELS:
        data = make(name)
        (COVERAGE / f"{name}.tflite").write_bytes(data)
        manifest[f"{name}.tflite"] = describe(data)
        print(f"wrote {COVERAGE / name}.tflite ({len(data)} B)")
    (COVERAGE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


def main() -> None:
    write_coverage()
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
