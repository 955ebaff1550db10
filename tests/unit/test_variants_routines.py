"""microforge.lower.build_flags' flags for the fast kernels' routines (runtime kernels/fast/): which CONV_2D
tiles, depthwise rows and FULLY_CONNECTED quads a model reaches, and when the C tile loops, the
general depthwise path or the device's derivation of the short requantization can be left out.
The conditions mirror the kernels' dispatch; a routine left out costs speed only
(tests/e2e/test_fast_routines_qemu.py runs such builds bit-exact)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from microforge.lower.build_flags import build_flags
from microforge.lower.planned_ops import activation_range_int8
from microforge.model import read_model
from support import build_conv as bc
from support import shared_model
from support import tflite_build as tb

# Output quantizations: zero point -128 with a scale so small that RELU6's top is past 127 (the
# fused activation leaves the whole int8 range), or a scale that RELU6 clamps at 6 / 0.1 - 128.
FULL, CLAMPED = (0.01, -128), (0.1, -128)


def _window_op(kind: str, cout: int, cin: int, filt: tuple[int, int], act: int = tb.NONE,
               out: tuple[float, int] = FULL, per_channel: bool = True, mult: int = 1) -> bytes:
    """One int8 CONV_2D (kind "conv") or DEPTHWISE_CONV_2D ("dw") on an 8x8 input, with a bias."""
    rng = np.random.default_rng(cout * 100 + cin)
    fh, fw = filt
    cout = cin * mult if kind == "dw" else cout
    wshape = [1, fh, fw, cout] if kind == "dw" else [cout, fh, fw, cin]
    n = cout if per_channel else 1
    ws = [0.01 + 0.001 * i for i in range(n)]
    tensors = [
        tb.T([1, 8, 8, cin], tb.INT8, scale=[0.05], zero_point=[3]),
        tb.T(wshape, tb.INT8, rng.integers(-127, 128, wshape).astype(np.int8), ws, [0] * n, 3 if kind == "dw" else 0),
        tb.T([cout], tb.INT32, rng.integers(-3000, 3000, cout).astype(np.int32),
             [float(np.float32(0.05 * s)) for s in ws], [0] * n),
        tb.T([1, 8, 8, cout], tb.INT8, scale=[out[0]], zero_point=[out[1]]),
    ]
    if kind == "dw":
        code, opts = bc.DEPTHWISE_CONV_2D, bc.dw_options(bc.SAME, (1, 1), mult, act, (1, 1))
    else:
        code, opts = bc.CONV_2D, bc.conv_options(bc.SAME, (1, 1), act, (1, 1))
    return tb.build(tensors, [tb.Op(code, [0, 1, 2], [3], version=3, options=opts)], [0], [3])


def _fc(out_depth: int, depth: int, bias: bool = True, act: int = tb.NONE, out: tuple[float, int] = (0.5, 5),
        per_channel: bool = True) -> bytes:
    rng = np.random.default_rng(out_depth * 1000 + depth)
    ws = [0.01 + 0.001 * i for i in range(out_depth if per_channel else 1)]
    tensors = [
        tb.T([1, depth], tb.INT8, scale=[0.05], zero_point=[3]),
        tb.T([out_depth, depth], tb.INT8, rng.integers(-127, 128, (out_depth, depth)).astype(np.int8), ws,
             [0] * len(ws)),
        tb.T([out_depth], tb.INT32, rng.integers(-3000, 3000, out_depth).astype(np.int32),
             [float(np.float32(np.float64(np.float32(0.05)) * np.float64(s))) for s in ws], [0] * len(ws)),
        tb.T([1, out_depth], tb.INT8, scale=[out[0]], zero_point=[out[1]]),
    ]
    node = tb.Op(tb.FULLY_CONNECTED, [0, 1, 2 if bias else -1], [3], version=4, fc=(act, False))
    return tb.build(tensors, [node], [0], [3])


def _flags(tmp_path: Path, model: bytes, wide: bool | None = None) -> dict[str, str]:
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    return dict(f.removeprefix("-D ").split("=") for f in build_flags(read_model(path), wide))


@pytest.mark.parametrize("act,out,bits", [(tb.NONE, CLAMPED, 1), (tb.RELU, FULL, 1), (tb.RELU6, FULL, 1),
                                          (tb.RELU6, CLAMPED, 2), (tb.RELU, (0.1, 0), 2)])
def test_conv_tiles_follow_the_output_range_and_the_widened_filter(tmp_path, act, out, bits):
    """Over the widened filter (bits 1, 2) when the plan carries it, else over the int8 one (4, 8);
    unknown: both."""
    model = _window_op("conv", 16, 8, (3, 3), act, out)
    assert _flags(tmp_path, model, wide=True)["MF_MODEL_CONV_TILES"] == str(bits)
    assert _flags(tmp_path, model, wide=False)["MF_MODEL_CONV_TILES"] == str(bits << 2)
    # a small model: every board's plan carries the widened filter
    assert _flags(tmp_path, model)["MF_MODEL_CONV_TILES"] == str(bits)


def test_per_tensor_conv_takes_the_int8_tiles(tmp_path):
    flags = _flags(tmp_path, _window_op("conv", 16, 8, (3, 3), per_channel=False), wide=True)
    assert flags["MF_MODEL_CONV_TILES"] == "4"
    assert "MF_MODEL_CONV_TILES_ONLY" not in flags  # its requantization is decided on the device


@pytest.mark.parametrize("cout,cin,wide,only", [
    (16, 8, True, True),    # whole channel pairs, the generator's short requantization
    (15, 8, True, False),   # an odd last channel runs in the C loop
    (16, 3, True, True),    # 27 filter elements: the widened filter is zero-padded
    (16, 3, False, False),  # the int8 tiles leave the last pair of a 27-element row to C
    (16, 4, False, True),
    (16, 3, None, True),    # (a small model: known to carry the widened filter)
])
def test_conv_tiles_only_when_the_tiles_take_every_channel(tmp_path, cout, cin, wide, only):
    flags = _flags(tmp_path, _window_op("conv", cout, cin, (3, 3)), wide)
    assert ("MF_MODEL_CONV_TILES_ONLY" in flags) == only


@pytest.mark.parametrize("cin,filt,rows,only", [
    (16, (3, 3), "1", True),
    (13, (3, 3), "1", False),  # the last 13 % 4 channels need the general path
    (16, (5, 5), "0", False),
    (3, (3, 3), "0", False),   # fewer than 4 channels: no rows
])
def test_depthwise_rows_and_the_general_path(tmp_path, cin, filt, rows, only):
    flags = _flags(tmp_path, _window_op("dw", 0, cin, filt))
    assert flags["MF_MODEL_DEPTHWISE_ROWS"] == rows
    assert ("MF_MODEL_DEPTHWISE_3X3_ONLY" in flags) == only
    assert "MF_MODEL_DEPTHWISE_FAST_ONLY" in flags  # covered either way (the general path)


def test_depthwise_rows_clamped_and_unsure(tmp_path):
    assert _flags(tmp_path, _window_op("dw", 0, 8, (3, 3), tb.RELU6, CLAMPED))["MF_MODEL_DEPTHWISE_ROWS"] == "2"
    # RELU6's top at 6 / 0.048 - 128 = -3: rounding is clear, the output clamped
    assert _flags(tmp_path, _window_op("dw", 0, 8, (3, 3), tb.RELU6, (0.048, -128)))["MF_MODEL_DEPTHWISE_ROWS"] == "2"
    # RELU6's top at a tie in real numbers (6 / scale = 60.5): the generator rounds as the kernels do
    # in float32 (planned_ops.activation_range_int8, the rule MF_VERIFY_PLAN checks), so one routine
    lo, hi = activation_range_int8(tb.RELU6, 6 / 60.5, 70)
    want = "1" if (lo, hi) == (-128, 127) else "2"
    assert _flags(tmp_path, _window_op("dw", 0, 8, (3, 3), tb.RELU6, (6 / 60.5, 70)))["MF_MODEL_DEPTHWISE_ROWS"] == want


def test_depthwise_multiplier_keeps_the_general_path_apart(tmp_path):
    """A depth multiplier runs on its own path: the 3x3-only flag is about multiplier 1 only, and a
    one-channel input's multiplier runs the CONV_2D tiles over a filter widened on the device."""
    flags = _flags(tmp_path, _window_op("dw", 0, 1, (3, 3), mult=8))
    assert "MF_MODEL_DEPTHWISE_3X3_ONLY" in flags and "MF_MODEL_NO_DEPTH_MULTIPLIER" not in flags
    assert flags["MF_MODEL_CONV_TILES"] == "1" and "MF_MODEL_CONV_TILES_ONLY" not in flags


@pytest.mark.parametrize("out_depth,depth,bias,only", [
    (20, 96, True, True),
    (12, 64, True, True),
    (13, 96, True, False),   # a row left over
    (20, 97, True, False),   # 97 % 4 inputs: the last quad is left to C
    (20, 96, False, False),  # no bias: no quads
    (36, 96, True, False),   # more channels than FcRequant's short forms
])
def test_fc_quads_only(tmp_path, out_depth, depth, bias, only):
    flags = _flags(tmp_path, _fc(out_depth, depth, bias))
    assert ("MF_MODEL_FC_QUADS_ONLY" in flags) == only


def test_fc_quads_only_per_tensor(tmp_path):
    assert "MF_MODEL_FC_QUADS_ONLY" in _flags(tmp_path, _fc(36, 96, per_channel=False))
    # a multiplier without the short form (output scale below the product: left shift)
    assert "MF_MODEL_FC_QUADS_ONLY" not in _flags(tmp_path, _fc(20, 96, per_channel=False, out=(1e-6, 0)))


@pytest.mark.shared_models
def test_kws_links_one_routine_of_each(tmp_path):
    """KWS: every CONV_2D on its widened filter with a full-range output, 3x3 depthwise on 64
    channels, one FC of 12 x 64 (on its widened filter too: issue 22's per-tensor full-range quads, 16)."""
    flags = dict(f.removeprefix("-D ").split("=") for f in
                 build_flags(read_model(shared_model("mlperf_tiny/kws/kws_ref_model.tflite"))))
    assert {k: v for k, v in flags.items() if k in {
        "MF_MODEL_CONV_TILES", "MF_MODEL_DEPTHWISE_ROWS", "MF_MODEL_FC_QUADS", "MF_MODEL_CONV_TILES_ONLY",
        "MF_MODEL_FC_QUADS_ONLY", "MF_MODEL_DEPTHWISE_3X3_ONLY"}} == {
        "MF_MODEL_CONV_TILES": "1", "MF_MODEL_DEPTHWISE_ROWS": "1", "MF_MODEL_FC_QUADS": "16",
        "MF_MODEL_CONV_TILES_ONLY": "1", "MF_MODEL_FC_QUADS_ONLY": "1", "MF_MODEL_DEPTHWISE_3X3_ONLY": "1"}


@pytest.mark.shared_models
def test_large_models_leave_the_tiles_to_the_boards(tmp_path):
    """VWW's widened filters do not fit the smallest boards' flash: without the project's answer
    both CONV_2D tile kinds stay; with it, one."""
    model = read_model(shared_model("mlperf_tiny/vww/vww_96_int8.tflite"))

    def tiles(wide: bool | None) -> int:
        return int(dict(f.removeprefix("-D ").split("=") for f in build_flags(model, wide))["MF_MODEL_CONV_TILES"])

    assert tiles(None) == tiles(True) | tiles(False)
    assert tiles(True) & 12 == 0 and tiles(False) & 3 == 0


@pytest.mark.shared_models
def test_fc_quads_follow_the_widened_filters():
    """AD (issue 22): its FULLY_CONNECTED filters (528 KB widened) take the quads over the plan's
    widened filter where the plan carries them (16), the int8 filter's otherwise (1); without the
    project's answer both."""
    model = read_model(shared_model("mlperf_tiny/ad/ad01_int8.tflite"))

    def quads(wide: bool | None) -> int:
        return int(dict(f.removeprefix("-D ").split("=") for f in build_flags(model, wide))["MF_MODEL_FC_QUADS"])

    assert (quads(True), quads(False)) == (16, 1)
    assert quads(None) in (16, 17)  # 17 where a catalogue board's flash has no room for them


def test_quick_from_plan(tmp_path):
    """The generator's short requantization for every CONV_2D and depth multiplier 1 depthwise node
    the fast path takes: per-channel weights whose multipliers allow it."""
    assert "MF_MODEL_QUICK_FROM_PLAN" in _flags(tmp_path, _window_op("conv", 16, 8, (3, 3)))
    assert "MF_MODEL_QUICK_FROM_PLAN" in _flags(tmp_path, _window_op("dw", 0, 13, (5, 5)))
    assert "MF_MODEL_QUICK_FROM_PLAN" not in _flags(tmp_path, _window_op("conv", 16, 8, (3, 3), per_channel=False))
    # a multiplier of 0.05 * 0.01 / 1e-5 = 50 (a left shift) has no short form
    assert "MF_MODEL_QUICK_FROM_PLAN" not in _flags(tmp_path, _window_op("conv", 16, 8, (3, 3), out=(1e-5, 0)))
    # a depth multiplier derives its own on the device: no condition on it
    assert "MF_MODEL_QUICK_FROM_PLAN" in _flags(tmp_path, _window_op("dw", 0, 2, (3, 3), mult=4))
