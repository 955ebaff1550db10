"""Random int8 FULLY_CONNECTED models (the runtime's differential tests and the fast kernels')."""

from __future__ import annotations

import numpy as np

from support import tflite_build as tb


def random_int8_fc(seed: int, **fixed) -> tuple[bytes, list[np.ndarray]]:
    """A random int8 FULLY_CONNECTED model and 20 inputs; keyword arguments fix any of depth, out,
    batch, use_bias, float_io and in_zp (the random draws stay the same); extreme_weights=True then
    sets every third weight to -128 and the next to 127 (the int8 range's ends)."""
    rng = np.random.default_rng(seed)
    depth, out, batch = int(rng.integers(1, 64)), int(rng.integers(1, 40)), int(rng.integers(1, 4))
    act, per_channel = int(rng.integers(0, 4)), bool(rng.integers(0, 2))
    use_bias, float_io = bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    in_s, in_zp = float(np.float32(10 ** rng.uniform(-3, 0))), int(rng.integers(-128, 128))
    depth, out, batch = fixed.get("depth", depth), fixed.get("out", out), fixed.get("batch", batch)
    use_bias, float_io = fixed.get("use_bias", use_bias), fixed.get("float_io", float_io)
    in_zp = fixed.get("in_zp", in_zp)
    out_s, out_zp = float(np.float32(10 ** rng.uniform(-3, 1))), int(rng.integers(-128, 128))
    w = rng.integers(-127, 128, (out, depth)).astype(np.int8)
    if fixed.get("extreme_weights"):
        w[:, ::3], w[:, 1::3] = -128, 127
    ws = [float(x) for x in (10 ** rng.uniform(-4, -1, out if per_channel else 1)).astype(np.float32)]
    bs = [float(np.float32(np.float64(np.float32(in_s)) * np.float64(s))) for s in ws]
    tensors, ops, x = [], [], 0
    if float_io:
        tensors.append(tb.T([batch, depth], tb.FLOAT32))
        ops.append(tb.Op(tb.QUANTIZE, [0], [1]))
        x = 1
    tensors.append(tb.T([batch, depth], tb.INT8, scale=[in_s], zero_point=[in_zp]))
    wi = len(tensors)
    tensors.append(tb.T([out, depth], tb.INT8, w, scale=ws, zero_point=[0] * len(ws)))
    bias = rng.integers(-20000, 20000, out).astype(np.int32)
    tensors.append(tb.T([out], tb.INT32, bias, scale=bs, zero_point=[0] * len(bs)))
    oi = len(tensors)
    tensors.append(tb.T([batch, out], tb.INT8, scale=[out_s], zero_point=[out_zp]))
    ins = [x, wi, wi + 1 if use_bias else -1]
    ops.append(tb.Op(tb.FULLY_CONNECTED, ins, [oi], version=4, fc=(act, False)))
    if float_io:
        tensors.append(tb.T([batch, out], tb.FLOAT32))
        ops.append(tb.Op(tb.DEQUANTIZE, [oi], [oi + 1]))
    model = tb.build(tensors, ops, [0], [len(tensors) - 1])
    if float_io:
        inputs = [(rng.normal(0, 1, (batch, depth)) * in_s * 60).astype(np.float32) for _ in range(20)]
    else:
        inputs = [rng.integers(-128, 128, (batch, depth)).astype(np.int8) for _ in range(20)]
    return model, inputs
