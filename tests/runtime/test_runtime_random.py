"""Randomized differential tests: random FC models (shapes, scales, zero points,
activations, per-tensor / per-channel, float io) against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest
from support import tflite_build as tb
from support.random_fc import random_int8_fc
from support.rt_common import ours, tflm, write


def random_float_fc(seed: int) -> tuple[bytes, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    depth, out = int(rng.integers(1, 100)), int(rng.integers(1, 30))
    lead = [int(v) for v in rng.integers(1, 4, int(rng.integers(1, 3)))]
    act, use_bias, keep = int(rng.integers(0, 4)), bool(rng.integers(0, 2)), bool(rng.integers(0, 2))
    in_shape = [*lead, depth]
    out_shape = [*lead, out] if keep else [int(np.prod(lead)), out]
    tensors = [
        tb.T(in_shape, tb.FLOAT32),
        tb.T([out, depth], tb.FLOAT32, rng.normal(0, 1, (out, depth)).astype(np.float32)),
        tb.T([out], tb.FLOAT32, rng.normal(0, 1, out).astype(np.float32)),
        tb.T(out_shape, tb.FLOAT32),
    ]
    op = tb.Op(tb.FULLY_CONNECTED, [0, 1, 2 if use_bias else -1], [3], fc=(act, keep))
    model = tb.build(tensors, [op], [0], [3])
    inputs = [(rng.normal(0, 1, in_shape) * 10 ** rng.uniform(-3, 3)).astype(np.float32) for _ in range(10)]
    inputs[0].flat[0] = [np.inf, np.nan, -np.inf][seed % 3]
    return model, inputs


@pytest.mark.parametrize("block", range(4))
def test_random_int8_fc_models(driver, tmp_path, block):
    for seed in range(block * 20, block * 20 + 20):
        model, inputs = random_int8_fc(seed)
        got = ours(driver, write(tmp_path, f"r{seed}.tflite", model), inputs)
        assert got == tflm(model, inputs), f"seed {seed}"


@pytest.mark.parametrize("block", range(2))
def test_random_float_fc_models(driver, tmp_path, block):
    for seed in range(block * 20, block * 20 + 20):
        model, inputs = random_float_fc(seed)
        got = ours(driver, write(tmp_path, f"f{seed}.tflite", model), inputs)
        assert got == tflm(model, inputs), f"seed {seed}"
