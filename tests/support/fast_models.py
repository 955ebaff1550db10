"""Small single-op models that reach every loop and operand pattern of the fast int8 kernels'
assembly (tests/e2e/test_fast_kernels_qemu.py, tests/e2e/test_fast_routines_qemu.py): name -> a
function that builds the model."""

from __future__ import annotations

from support import build_conv as bc
from support import build_elementwise as be
from support import tflite_build as tb
from support.random_fc import random_int8_fc


def _conv(kind: str, seed: int, **kw) -> bytes:
    case = bc.Case(kind, False, tb.RELU if seed % 2 else tb.NONE, bc.SAME if seed % 3 else bc.VALID,
                   per_channel=bool(seed % 2))
    return bc.conv_model(case, seed, kw.pop("bias", None), kw.pop("max_filter", 3), kw.pop("max_cin", 13),
                         kw.pop("max_cout", 11), **kw)


def _binary(op: str, act: int, shape: tuple[int, ...] = (3, 5, 7),
            scales: list[tuple[float, int]] | None = None) -> bytes:
    """Two same-shape int8 graph inputs: the flat ADD / SUB / MUL loop (ADD / SUB from 512
    elements with tables of both inputs' terms, four elements a step in assembly)."""
    scales = scales or [(0.031, -5), (0.047, 9), (0.09 if op == "MUL" else 0.055, -20)]
    tensors = [tb.T(list(shape), tb.INT8, scale=[s], zero_point=[z]) for s, z in scales]
    kind = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}[op]
    node = tb.Op(getattr(be, op), [0, 1], [2], version=2, options=be.options(kind, FusedActivationFunction=act))
    return tb.build(tensors, [node], [0, 1], [2])


MODELS = {
    "add_same_shape_relu": lambda: _binary("ADD", tb.RELU),
    "mul_same_shape": lambda: _binary("MUL", tb.NONE),
    "add_same_shape_tables": lambda: _binary("ADD", tb.NONE, (4, 8, 17)),
    "sub_same_shape_tables_relu6": lambda: _binary("SUB", tb.RELU6, (2, 16, 19)),
    # issue 22: the assembly's groups of four with 3 / 2 / 1 elements left to C, the int8 range's
    # zero points, outputs saturating (a small output scale), every activation
    "add_tables_tail3_saturating": lambda: _binary("ADD", tb.NONE, (5, 103), [(0.05, -128), (0.07, 127), (0.011, 3)]),
    "add_tables_tail1_relu_n1": lambda: _binary("ADD", tb.RELU_N1_TO_1, (3, 3, 57), [(0.02, 127), (0.013, -128),
                                                                                      (0.009, -128)]),
    "sub_tables_tail2_relu": lambda: _binary("SUB", tb.RELU, (2, 257), [(0.6, 0), (0.9, -3), (0.05, -100)]),
    "add_tables_16k_relu6": lambda: _binary("ADD", tb.RELU6, (64, 64, 4), [(0.1, -10), (0.02, 20), (0.03, -128)]),
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
    # issue 22: the quads over the plan's widened filter (MF_MODEL_FC_QUADS bits 16..128), each routine,
    # every count of lead groups (groups % 4), depth tails, rows left to C, batches, the int8 range's ends
    "fc_wide_per_tensor_lead1_batch3": lambda: random_int8_fc(106, depth=20, out=8, batch=3, use_bias=True,
                                                              float_io=False)[0],
    "fc_wide_per_tensor_clamped_lead2_rows7": lambda: random_int8_fc(100, depth=7, out=7, batch=1, use_bias=True,
                                                                     float_io=False)[0],
    "fc_wide_per_channel_lead3_tail": lambda: random_int8_fc(113, depth=41, out=8, batch=2, use_bias=True,
                                                             float_io=False)[0],
    "fc_wide_per_channel_clamped_lead0_extremes": lambda: random_int8_fc(105, depth=64, out=14, batch=1,
                                                                         use_bias=True, float_io=False, in_zp=-128,
                                                                         extreme_weights=True)[0],
    "fc_wide_per_tensor_1024_zp127_extremes": lambda: random_int8_fc(106, depth=1024, out=5, batch=1,
                                                                     use_bias=True, float_io=False, in_zp=127,
                                                                     extreme_weights=True)[0],
    "conv_widened_padded": lambda: _conv("conv", 11, max_filter=5),
    "conv_pointwise_zp0_no_bias": lambda: _conv("conv", 12, filt=(1, 1), cin=24, in_zp=0, bias=False),
    "conv_3x2_odd_channels_no_bias": lambda: bc.conv_model(bc.Case("conv", False, tb.NONE, bc.SAME, per_channel=True),
                                                           25, False, 3, 8, 5, filt=(3, 2), cin=8, size=(2, 3)),
    "conv_reference_fallback_k_over_576": lambda: _conv("conv", 13, filt=(3, 3), cin=67),
    # issue 22 (MF_MODEL_CONV_WIDEN_ROWS): patches of 16-byte rows widened four groups an LDM, inside the
    # input (the plan's windows) and at its borders (staged), 1 to 4 LDMs a row, strided 1x1 filters
    "conv_rows16_3x3_same_cin16": lambda: bc.conv_model(bc.Case("conv", False, tb.RELU, bc.SAME, per_channel=True),
                                                        36, True, 3, 16, 9, filt=(3, 3), cin=16, size=(6, 7)),
    "conv_rows16_3x3_same_cin16_per_tensor": lambda: bc.conv_model(
        bc.Case("conv", False, tb.RELU, bc.SAME, per_channel=False), 36, True, 3, 16, 9, filt=(3, 3), cin=16,
        size=(6, 7)),
    "conv_rows16_2x2_strided_cin32": lambda: bc.conv_model(
        bc.Case("conv", False, tb.NONE, bc.VALID, per_channel=True, stride=(2, 2)), 36, True, 3, 32, 6, filt=(2, 2),
        cin=32, size=(7, 6)),
    "conv_rows16_1x1_stride2_cin48_zp": lambda: bc.conv_model(
        bc.Case("conv", False, tb.RELU6, bc.SAME, per_channel=True, stride=(2, 2)), 36, False, 3, 48, 10, filt=(1, 1),
        cin=48, in_zp=-128, size=(5, 5)),
    "conv_rows16_3x1_cin64_zp": lambda: bc.conv_model(bc.Case("conv", False, tb.NONE, bc.SAME, per_channel=True),
                                                      36, True, 3, 64, 5, filt=(3, 1), cin=64, in_zp=127),
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
