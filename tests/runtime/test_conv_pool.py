"""CONV_2D, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D and MAX_POOL_2D: random models covering every
option (padding, strides, dilation, depth multiplier, activations, per-tensor / per-channel,
float / int8) through the ASan/UBSan driver, bit-exact against tflite-micro."""

from __future__ import annotations

import numpy as np
import pytest
from support import build_conv as bc
from support import plan_tools as pt
from support import tflite_build as tb
from support.rt_common import ours, random_inputs, run, tflm, write

CASES = [c for kind in ("conv", "dw", "avg", "max") for c in bc.cases(kind)]


def test_cases_cover_every_option():
    for kind in ("conv", "dw", "avg", "max"):
        cs = bc.cases(kind)
        assert {c.act for c in cs} == {tb.NONE, tb.RELU, tb.RELU_N1_TO_1, tb.RELU6}
        assert {c.padding for c in cs} == {bc.SAME, bc.VALID}
        assert {c.is_float for c in cs} == {False, True}
        assert {s for c in cs for s in c.stride} == {1, 2}
        if kind in ("conv", "dw"):
            assert {c.per_channel for c in cs} == {False, True}
            assert {d for c in cs for d in c.dilation} == {1, 2}
    assert {c.mult for c in bc.cases("dw")} == {1, 2}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_window_op_bit_exact(driver, tmp_path, case):
    seen: set[str] = set()
    for seed in range(2):
        model = bc.model_for(case, seed * 1000 + CASES.index(case))
        inputs = random_inputs(model, 20, seed=seed)
        if case.is_float and seed == 1:
            inputs[0].flat[0] = [np.inf, np.nan, -np.inf][CASES.index(case) % 3]
        path = write(tmp_path, f"m{seed}.tflite", model)
        # Also checks arena_required() == mf::arena_bytes(...) with the kernels' state_bytes.
        got = ours(driver, path, inputs, "--expect", pt.expect_arg(model))
        want = tflm(model, inputs)
        assert got == want, f"{case} seed {seed}"
        seen.update(want)
    assert len(seen) > 1  # the inputs and weights matter


def _conv_case(**kw) -> bc.Case:
    base = {"kind": "conv", "is_float": False, "act": tb.NONE, "padding": bc.SAME}
    return bc.Case(**{**base, **kw})


def test_conv_per_channel_strided_extra_seed(driver, tmp_path):
    """One more per-channel model (stride (2, 1)); the output stays per-tensor quantized."""
    model = bc.conv_model(_conv_case(per_channel=True, stride=(2, 1)), seed=5)
    import tflite

    m = tflite.Model.GetRootAsModel(model, 0)
    assert m.Subgraphs(0).Tensors(3).Quantization().ScaleLength() == 1
    inputs = random_inputs(model, 20, seed=3)
    got = ours(driver, write(tmp_path, "m.tflite", model), inputs)
    assert got == tflm(model, inputs)


@pytest.mark.parametrize("bad", ["stride0", "version99", "out_shape", "dw_mult"])
def test_rejects_bad_options(driver, tmp_path, bad):
    c = _conv_case(kind="dw" if bad == "dw_mult" else "conv", mult=2 if bad == "dw_mult" else 1)
    rng_seed = 11
    model = bc.conv_model(c, rng_seed)
    if bad == "stride0":
        t = [tb.T([1, 5, 5, 2], tb.FLOAT32), tb.T([1, 5, 5, 2], tb.FLOAT32)]
        opts = bc.pool_options(bc.SAME, (0, 1), (2, 2), tb.NONE)
        model = tb.build(t, [tb.Op(bc.MAX_POOL_2D, [0], [1], options=opts)], [0], [1])
        expect = "error bad-model op=0 code=17 "
    elif bad == "version99":
        t = [tb.T([1, 5, 5, 2], tb.FLOAT32), tb.T([1, 5, 5, 2], tb.FLOAT32)]
        opts = bc.pool_options(bc.SAME, (1, 1), (2, 2), tb.NONE)
        model = tb.build(t, [tb.Op(bc.AVERAGE_POOL_2D, [0], [1], version=99, options=opts)], [0], [1])
        expect = "error unsupported-op op=0 code=1 "
    elif bad == "out_shape":
        t = [tb.T([1, 5, 5, 2], tb.FLOAT32), tb.T([1, 4, 5, 2], tb.FLOAT32)]
        opts = bc.pool_options(bc.SAME, (1, 1), (2, 2), tb.NONE)
        model = tb.build(t, [tb.Op(bc.AVERAGE_POOL_2D, [0], [1], options=opts)], [0], [1])
        expect = "error kernel-error op=0 code=1 "
    else:  # depth_multiplier 2 in the options, but a filter with one output per input channel
        t = [tb.T([1, 5, 5, 3], tb.FLOAT32), tb.T([1, 2, 2, 3], tb.FLOAT32, np.ones((1, 2, 2, 3))),
             tb.T([1, 5, 5, 3], tb.FLOAT32)]
        opts = bc.dw_options(bc.SAME, (1, 1), 2, tb.NONE, (1, 1))
        model = tb.build(t, [tb.Op(bc.DEPTHWISE_CONV_2D, [0, 1, -1], [2], options=opts)], [0], [2])
        expect = "error kernel-error op=0 code=4 "
    res = run(driver, write(tmp_path, "bad.tflite", model), b"")
    assert res.returncode == 3
    assert res.stdout.decode().startswith(expect), res.stdout.decode()
