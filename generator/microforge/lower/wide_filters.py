"""Filter layouts the generator prepares for the fast kernels (runtime/src/microforge/kernels/
fast/conv_tiles.inc), kept in flash beside the model.

CONV_2D's fast path multiplies pairs of output pixels by pairs of output channels. With the model's
int8 filter it loads a word of four weights per channel and splits it into two int16 pairs
(SXTB16) for every group of four inputs: 15 instructions per 16 MACs. Given the filter already
widened, in the order the loop reads it, one LDM brings both channels' pairs: 10 instructions per
16 MACs. The widened copy is two bytes per weight (the model's int8 filter stays, the reference
kernels and the odd channel read it), so it is emitted only when every chosen board with a known
flash size keeps room for it (``use_wide_filters``).

Layout of one operator (``wide_filter``): output channels in pairs (c, c + 1), an odd last channel
left out; per pair, for each group of four filter elements k..k+3 (the filter's row order, padded
with zeros to a multiple of 4), the words (w_c[k], w_c[k+2]), (w_c[k+1], w_c[k+3]),
(w_c+1[k], w_c+1[k+2]), (w_c+1[k+1], w_c+1[k+3]), each the low int16 first, every weight doubled
(the kernels keep doubled accumulators for their short requantization: requant.h QuickRequant).

FULLY_CONNECTED (issue 22, fast/fc_quads.inc): the quad routines multiply one widened input row by
four filter rows; with the int8 filter 21 instructions per 16 MACs (a word load and two SXTB16 per
row and group), with the widened one 11 (two LDMs a group). Layout (``wide_fc_filter``): output
rows in quads (4q..4q+3), the last out % 4 rows left out (the C loop reads the int8 filter); per
quad, for each group of four inputs k..k+3 (padded with zeros to a multiple of 4), each row's
words (w_r[k], w_r[k+2]), (w_r[k+1], w_r[k+3]), rows in order: 8 words a group, not doubled (the
routines double the sums for the short form). Only where the quads run it: int8 input and weights,
rows up to the widened input row's depth, a constant bias and the short requantization for every
channel (``fc_quick``, the device's FcRequant.quick). The plan gives it through the operator's
ChannelQuant entry (one with no channels for per-tensor weights).
"""

from __future__ import annotations

import numpy as np
import tflite

from microforge.boards import Board
from microforge.lower import limits
from microforge.lower.limits import CONV_MAX_PATCH
from microforge.lower.requant import ChannelQuant, channel_quant, constant_array, make_quick, quantize_multiplier
from microforge.model import ModelInfo, OperatorInfo, conv_dilation

CODE_ALLOWANCE = 96 * 1024  # flash kept free for the firmware's code and plan beside the filters


def _wide_rows(model: ModelInfo, op: OperatorInfo, cq: ChannelQuant | None,
               root: tflite.Model) -> np.ndarray | None:
    """The operator's int8 filter as [out, k] rows where the fast path reads it widened, else None
    (another operator, per-tensor weights, a layout the fast path leaves to the reference)."""
    if op.op != "CONV_2D" or cq is None or model.tensors[op.inputs[0]].dtype != "int8":
        return None
    weights = constant_array(model, op.inputs[1])
    if weights is None or weights.ndim != 4 or weights.dtype != np.int8:
        return None
    out, k = weights.shape[0], weights.shape[1] * weights.shape[2] * weights.shape[3]
    if out < 2 or k > CONV_MAX_PATCH or conv_dilation(root, op) != (1, 1):
        return None
    return weights.reshape(out, k)


def fc_quick(model: ModelInfo, op: OperatorInfo) -> bool:
    """A FULLY_CONNECTED with a constant bias and the short requantization for every channel
    (fast/fc_quads.inc FcRequant.quick)."""
    x, w, y = model.tensors[op.inputs[0]], model.tensors[op.inputs[1]], model.tensors[op.outputs[0]]
    if len(w.shape) != 2 or len(op.inputs) < 3 or op.inputs[2] < 0:
        return False
    bias = constant_array(model, op.inputs[2])
    if bias is None or len(y.quant.zero_points) != 1:
        return False
    if w.quant.per_channel:
        cq = channel_quant(model, op)
        forms = list(zip(cq.multipliers, cq.shifts, strict=True)) if cq is not None else []
    elif len(x.quant.scales) == len(w.quant.scales) == len(y.quant.scales) == 1 and y.quant.scales[0] > 0:
        q = quantize_multiplier(x.quant.scales[0] * w.quant.scales[0] / y.quant.scales[0])
        forms = [q] if q is not None else []
    else:
        forms = []
    if not 0 < len(forms) <= limits.FC_QUICK_CHANNELS:
        return False
    bits = 0
    for b in bias.reshape(-1):  # FcRequant's bound of every |bias|
        bits |= int(b) ^ (int(b) >> 31)
    bound = w.shape[1] * 255 * 128 + (bits & 0xFFFFFFFF) + 1
    return all(make_quick(m, s, y.quant.zero_points[0], bound) is not None for m, s in forms)


def _wide_fc_rows(model: ModelInfo, op: OperatorInfo) -> np.ndarray | None:
    """A FULLY_CONNECTED's int8 filter [out, k] where the quad routines would read it widened
    (fast/fc_quads.inc fully_connected_row), else None."""
    if op.op != "FULLY_CONNECTED" or len(op.inputs) < 3 or model.tensors[op.inputs[0]].dtype != "int8":
        return None
    w = model.tensors[op.inputs[1]]
    if w.dtype != "int8" or len(w.shape) != 2 or w.shape[0] < 4 or w.shape[1] > limits.FC_MAX_WIDE_DEPTH:
        return None
    weights = constant_array(model, op.inputs[1])
    if weights is None or weights.dtype != np.int8 or weights.shape != tuple(w.shape) or not fc_quick(model, op):
        return None
    return weights


def wide_fc_filter(model: ModelInfo, op: OperatorInfo) -> np.ndarray | None:
    """A FULLY_CONNECTED's widened filter as uint32 words (module docstring), or None."""
    filt = _wide_fc_rows(model, op)
    if filt is None:
        return None
    out, k = filt.shape
    groups = -(-k // 4)
    rows = np.zeros((out - out % 4, groups * 4), np.int64)
    rows[:, :k] = filt[:out - out % 4]
    g = rows.reshape(-1, 4, groups, 4)  # quad, row of the quad, group, element
    words = (g[..., [0, 1]] & 0xFFFF) | ((g[..., [2, 3]] & 0xFFFF) << 16)  # (k, k+2), (k+1, k+3)
    return words.transpose(0, 2, 1, 3).reshape(-1).astype(np.uint32)  # quad, group, row, word


def _fc_words(out: int, k: int) -> int:
    return (out // 4) * -(-k // 4) * 8


def _words(out: int, k: int) -> int:
    return (out // 2) * -(-k // 4) * 4


def wide_filter(model: ModelInfo, op: OperatorInfo, cq: ChannelQuant | None,
                root: tflite.Model | None = None) -> np.ndarray | None:
    """The operator's widened filter as uint32 words, or None where the fast path would not read it."""
    if op.op == "FULLY_CONNECTED":
        return wide_fc_filter(model, op)
    root = root if root is not None else model.root
    filt = _wide_rows(model, op, cq, root)
    if filt is None:
        return None
    out, k = filt.shape
    groups = -(-k // 4)
    rows = np.zeros((out - out % 2, groups * 4), np.int64)
    rows[:, :k] = 2 * filt[:out - out % 2].astype(np.int64)  # doubled, as the kernels' accumulators
    g = rows.reshape(-1, 2, groups, 4)  # pair, channel of the pair, group, element
    lo = (g[..., [0, 1]] & 0xFFFF) | ((g[..., [2, 3]] & 0xFFFF) << 16)  # (k, k+2), (k+1, k+3)
    words = lo.transpose(0, 2, 1, 3)  # pair, group, channel, word
    return words.reshape(-1).astype(np.uint32)


def wide_filters(model: ModelInfo, quants: list[ChannelQuant | None]) -> list[np.ndarray | None]:
    """Per operator, in order."""
    root = model.root
    return [wide_filter(model, op, cq, root) for op, cq in zip(model.operators, quants, strict=True)]


def wide_bytes(model: ModelInfo, quants: list[ChannelQuant | None]) -> int:
    """Flash the widened filters take, from the filters' shapes (nothing is widened here)."""
    root = model.root
    shapes = [_wide_rows(model, op, cq, root) for op, cq in zip(model.operators, quants, strict=True)]
    fcs = [_wide_fc_rows(model, op) for op in model.operators]
    return sum(4 * _words(*f.shape) for f in shapes if f is not None) + sum(4 * _fc_words(*f.shape)
                                                                              for f in fcs if f is not None)


def use_wide_filters(model: ModelInfo, boards: list[Board], quants: list[ChannelQuant | None]) -> bool:
    """Whether the project's plan carries widened filters: some board runs the fast kernels, and
    every board with a known flash size keeps room for the model, the filters and the code."""
    if not any(b.kernels == "fast-dsp" for b in boards):
        return False
    extra = wide_bytes(model, quants)
    if extra == 0:
        return False
    return all(_room(b) is None or len(model.data) + extra + CODE_ALLOWANCE <= _room(b) for b in boards)


def _room(board: Board) -> int | None:
    """Where the filters would live: flash, or RAM on boards that copy read-only data there."""
    return board.ram_bytes if board.rodata_in == "ram" else board.flash_bytes
