"""Reads models for the runtime tests: arena formula inputs, memory plans, byte ranges."""

from __future__ import annotations

import numpy as np


def model_info(data: bytes):
    import tflite

    m = tflite.Model.GetRootAsModel(data, 0)
    sg = m.Subgraphs(0)
    tensors = []
    for i in range(sg.TensorsLength()):
        t = sg.Tensors(i)
        nbytes = int(np.prod(t.ShapeAsNumpy())) * {0: 4, 2: 4, 9: 1}[t.Type()]
        const = m.Buffers(t.Buffer()).DataLength() > 0
        q = t.Quantization()
        channels = q.ScaleLength() if q is not None and q.ScaleLength() > 1 else 0
        tensors.append((nbytes, const, list(t.ShapeAsNumpy()), channels))
    ops = []
    for i in range(sg.OperatorsLength()):
        op = sg.Operators(i)
        oc = m.OperatorCodes(op.OpcodeIndex())
        code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
        ops.append((code, list(op.InputsAsNumpy()), list(op.OutputsAsNumpy())))
    return tensors, ops, list(sg.InputsAsNumpy()), list(sg.OutputsAsNumpy())


def a16(n: int) -> int:
    return (n + 15) // 16 * 16


def expect_arg(data: bytes, act: int | None = None) -> str:
    tensors, ops, _, _ = model_info(data)
    if act is None:
        act = sum(a16(t[0]) for t in tensors if not t[1])
    io = sum(len(i) + len(o) for _, i, o in ops)
    # the per-channel parameter count of each operator's weights (input 1), 0 when per-tensor
    chans = [f"{code}:{tensors[i[1]][3] if len(i) > 1 and i[1] >= 0 else 0}" for code, i, _ in ops]
    return ",".join([str(act), str(len(tensors)), str(len(ops)), str(io), *chans])


def greedy_plan(data: bytes) -> tuple[int, list[int]]:
    """First-fit plan with reuse by lifetime (what a generator would emit)."""
    tensors, ops, g_in, g_out = model_info(data)
    life = {}
    for t in g_in:
        life[t] = [0, 0]
    for k, (_, ins, outs) in enumerate(ops):
        for t in [*ins, *outs]:
            if t >= 0 and not tensors[t][1]:
                life.setdefault(t, [k, k])[1] = k
    for t in g_out:
        life[t][1] = len(ops)
    offsets, placed = [-1] * len(tensors), []
    for t in sorted(life, key=lambda t: -tensors[t][0]):
        off = 0
        for o, size, (a, b) in sorted(placed):
            if life[t][0] <= b and a <= life[t][1] and off < o + size and o < off + tensors[t][0]:
                off = a16(o + size)
        offsets[t] = off
        placed.append((off, tensors[t][0], tuple(life[t])))
    return max(o + s for o, s, _ in placed), offsets


def plan_arg(act: int, offsets: list[int]) -> str:
    return f"{act}:" + ",".join(map(str, offsets))


def weight_ranges(data: bytes) -> str:
    """'a:b,...' byte ranges of the model's buffer data (for --skip)."""
    import tflite

    m = tflite.Model.GetRootAsModel(data, 0)
    out = []
    for i in range(m.BuffersLength()):
        tab = m.Buffers(i)._tab
        o = tab.Offset(4)
        if o:
            out.append(f"{tab.Vector(o)}:{tab.Vector(o) + tab.VectorLen(o)}")
    return ",".join(out) or "0:0"
