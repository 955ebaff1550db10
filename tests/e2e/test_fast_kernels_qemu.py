"""The fast int8 kernels' assembly loops on qemu-m4 (Cortex-M4F, DSP extension), bit-exact with TFLM
on small single-op models chosen to reach every loop and operand pattern: FULLY_CONNECTED with 1-3
leftover output rows, rows deeper than the widened row holds, depth tails (the last quad of rows
left to C), no bias and a zero input offset (accumulators and inputs starting equal), per-tensor
and per-channel weights with and without a clamp (the four quad routines), CONV_2D through widened
patches (odd pixel counts, padding, 1x1) and the fallback to the reference kernel (patches over 576
elements), DEPTHWISE_CONV_2D 3x3 a row at a time (borders, strides, channel tails, rows longer than
one run, more channels than one block), 5x5 filters, a depth multiplier of 8 (also of a one-channel
input, run as a CONV_2D), pruned channels (no weights, tiny scales, huge biases: the short
requantization's constant form), AVERAGE_POOL_2D (16-bit window sums) and same-shape ADD / MUL.
tests/runtime/test_fast_kernels.py runs the same kernels' portable forms under ASan on many more
shapes."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from microforge.device.verify import verify
from microforge.project.scaffold import generate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "runtime"))
import build_conv as bc  # noqa: E402
import tflite_build as tb  # noqa: E402
from test_runtime_random import random_int8_fc  # noqa: E402

HAVE_QEMU = shutil.which("arm-none-eabi-g++") is not None and shutil.which("qemu-system-arm") is not None
pytestmark = pytest.mark.skipif(not HAVE_QEMU, reason="arm-none-eabi-g++ or qemu-system-arm missing")


def _conv(kind: str, seed: int, **kw) -> bytes:
    case = bc.Case(kind, False, tb.RELU if seed % 2 else tb.NONE, bc.SAME if seed % 3 else bc.VALID,
                   per_channel=bool(seed % 2))
    return bc.conv_model(case, seed, kw.pop("bias", None), kw.pop("max_filter", 3), kw.pop("max_cin", 13),
                         kw.pop("max_cout", 11), **kw)


def _binary(op: str, act: int, shape: tuple[int, ...] = (3, 5, 7)) -> bytes:
    """Two same-shape int8 graph inputs: the flat ADD / SUB / MUL loop (ADD / SUB from 512
    elements with tables of both inputs' terms)."""
    import build_elementwise as be

    scales = [(0.031, -5), (0.047, 9), (0.09 if op == "MUL" else 0.055, -20)]
    tensors = [tb.T(list(shape), tb.INT8, scale=[s], zero_point=[z]) for s, z in scales]
    kind = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}[op]
    node = tb.Op(getattr(be, op), [0, 1], [2], version=2, options=be.options(kind, FusedActivationFunction=act))
    return tb.build(tensors, [node], [0, 1], [2])


MODELS = {
    "add_same_shape_relu": lambda: _binary("ADD", tb.RELU),
    "mul_same_shape": lambda: _binary("MUL", tb.NONE),
    "add_same_shape_tables": lambda: _binary("ADD", tb.NONE, (4, 8, 17)),
    "sub_same_shape_tables_relu6": lambda: _binary("SUB", tb.RELU6, (2, 16, 19)),
    "fc_rows_mod4_1_no_bias_zp0": lambda: random_int8_fc(1, depth=37, out=13, batch=1, use_bias=False,
                                                         float_io=False, in_zp=0)[0],
    "fc_rows_mod4_2": lambda: random_int8_fc(2, depth=64, out=6, batch=2, float_io=False)[0],
    "fc_rows_mod4_3_k1": lambda: random_int8_fc(3, depth=1, out=7, batch=1, float_io=False)[0],
    "fc_deep": lambda: random_int8_fc(4, depth=1000, out=8, batch=1, float_io=False)[0],
    # deeper than the widened row: the on-the-fly loop (per-channel weights, a row left after the quads)
    "fc_deeper_than_wide_row": lambda: random_int8_fc(706, depth=1283, out=9, batch=2, float_io=False)[0],
    "fc_per_channel_no_activation": lambda: random_int8_fc(10, depth=96, out=20, batch=1, use_bias=True,
                                                           float_io=False)[0],
    "fc_depth_tail_last_quad": lambda: random_int8_fc(12, depth=130, out=12, batch=2, use_bias=True,
                                                      float_io=False)[0],
    "conv_widened_padded": lambda: _conv("conv", 11, max_filter=5),
    "conv_pointwise_zp0_no_bias": lambda: _conv("conv", 12, filt=(1, 1), cin=24, in_zp=0, bias=False),
    "conv_3x2_odd_channels_no_bias": lambda: bc.conv_model(bc.Case("conv", False, tb.NONE, bc.SAME, per_channel=True),
                                                           25, False, 3, 8, 5, filt=(3, 2), cin=8, size=(2, 3)),
    "conv_reference_fallback_k_over_576": lambda: _conv("conv", 13, filt=(3, 3), cin=67),
    "dw_3x3_interior_tails_zp0": lambda: _conv("dw", 14, filt=(3, 3), cin=13, in_zp=0),
    "dw_3x3_wide": lambda: _conv("dw", 15, filt=(3, 3), cin=40),
    "dw_5x5": lambda: _conv("dw", 16, filt=(5, 5), cin=9),
    "avg_pool_whole_input_and_tail": lambda: bc.pool_model(bc.Case("avg", False, tb.RELU, bc.VALID), 23,
                                                           filt=(25, 5), ch=66, size=(25, 5)),
    "avg_pool_3x3_same_strided": lambda: bc.pool_model(bc.Case("avg", False, tb.NONE, bc.SAME, stride=(2, 2)), 24,
                                                       filt=(3, 3), ch=12, size=(7, 9)),
    "dw_3x3_stride_2_1_clamped": lambda: bc.conv_model(bc.Case("dw", False, tb.RELU6, bc.SAME, per_channel=True,
                                                               stride=(2, 1)), 21, None, 3, 3, 11, filt=(3, 3),
                                                       cin=12),
    "dw_3x3_rows_in_runs_and_blocks": lambda: bc.conv_model(bc.Case("dw", False, tb.NONE, bc.SAME, stride=(1, 2)),
                                                            22, None, 3, 3, 11, filt=(3, 3), cin=44,
                                                            size=(3, 230)),
    "conv_pointwise_pruned_channels": lambda: _conv("conv", 27, filt=(1, 1), cin=32, max_cout=12, dead=5),
    "dw_3x3_pruned_channels": lambda: _conv("dw", 19, filt=(3, 3), cin=16, dead=6),
    "dw_multiplier_8_one_channel": lambda: bc.conv_model(bc.Case("dw", False, tb.RELU6, bc.SAME, per_channel=True,
                                                                 stride=(2, 2), mult=8), 20, None, 3, 1, 8, cin=1),
    "dw_multiplier_8": lambda: bc.conv_model(bc.Case("dw", False, tb.RELU6, bc.SAME, per_channel=True,
                                                     stride=(2, 2), mult=8), 17, None, 3, 3, 11, cin=2),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fast_kernel_on_qemu_m4_bit_exact(name: str, tmp_path: Path) -> None:
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(MODELS[name]())
    project = generate(model, ["qemu-m4"], tmp_path / "p")
    report = verify(project, "qemu-m4", count=12, seed=5, litert=False)
    assert len(report.results) == 12
    bad = [r.index for r in report.results if not r.exact]
    assert not bad, f"{name}: inputs {bad} differ from TFLM"
    assert len({o for r in report.results for o in r.outputs}) > 1  # the inputs matter


def test_fc_quad_routines_left_out_fall_back(tmp_path: Path) -> None:
    """microforge.lower.build_flags builds only the FULLY_CONNECTED quad routines a model calls
    (MF_MODEL_FC_QUADS); built without any, the same firmware runs the C loop, bit-exact."""
    import re

    model = tmp_path / "fc.tflite"
    model.write_bytes(random_int8_fc(10, depth=96, out=20, batch=1, use_bias=True, float_io=False)[0])
    project = generate(model, ["qemu-m4"], tmp_path / "p")
    ini = project / "platformio.ini"
    text = ini.read_text()
    assert re.search(r"-D MF_MODEL_FC_QUADS=[1-9]", text)
    ini.write_text(re.sub(r"-D MF_MODEL_FC_QUADS=\d+", "-D MF_MODEL_FC_QUADS=0", text))
    report = verify(project, "qemu-m4", count=6, seed=5, litert=False)
    assert len(report.results) == 6 and all(r.exact for r in report.results)
