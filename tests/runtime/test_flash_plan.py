"""What the generator computes into model_plan.cpp's flash instead of the runtime filling the arena:
per-channel requantization (microforge.lower.requant) and the constant tensors' records
(microforge.lower.constant_records). Against the runtime's own path: the same multipliers for any scales, the same
outputs, a smaller arena by the expected bytes, and a plan that contradicts the model refused."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
from microforge.lower import requant
from microforge.lower.constant_records import constant_records
from microforge.lower.lowering import lower_with
from microforge.lower.requant import channel_quants, quantize_multiplier
from microforge.model import parse_model, read_model
from microforge.project import emit
from support.build_conv import SAME, VALID, Case, conv_model
from support.random_fc import random_int8_fc
from support.rt_common import FLAGS, HERE, ROOT, RUNTIME_SRC, runtime_sources, shared_model

EXAMPLES = ROOT / "generator" / "microforge" / "examples"


def _bits(x: float) -> str:
    return f"{struct.unpack('<I', struct.pack('<f', x))[0]:08x}"


def _f32(x: float) -> float:
    return float(np.float32(x))


def test_generator_multipliers_equal_the_runtimes(tmp_path: Path) -> None:
    exe = tmp_path / "multiplier_check"
    subprocess.run(["g++", *FLAGS, "-O1", f"-I{RUNTIME_SRC}", str(HERE / "multiplier_check.cpp"),
                    "-o", str(exe)], check=True)
    rng = np.random.default_rng(7)
    triples = [tuple(_f32(v) for v in 10.0 ** rng.uniform(-8, 3, 3)) for _ in range(50_000)]
    tiny, huge = _f32(1.4e-45), _f32(3.4e38)
    edges = [1.0, 0.5, 0.25, 2.0 ** -31, 2.0 ** -32, 2.0 ** 30, 2.0 ** 31, 1.0 - 2.0 ** -24, tiny, huge]
    triples += [(a, b, c) for a in edges for b in edges for c in edges]
    text = "".join(f"{_bits(a)} {_bits(b)} {_bits(c)}\n" for a, b, c in triples)
    out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout.split("\n")
    refused = 0
    for (a, b, c), line in zip(triples, out, strict=False):
        q = quantize_multiplier(a * b / c)
        want = "refused" if q is None else f"{q[0]} {q[1]}"
        refused += q is None
        assert line == want, (a, b, c)
    assert 0 < refused < len(triples)  # both outcomes were exercised


def _models() -> list:
    return [
        ("conv-pc", lambda: conv_model(Case("conv", False, 1, SAME, True), 3, max_cout=40)),
        ("dw-pc-mult2", lambda: conv_model(Case("dw", False, 0, VALID, True, mult=2), 5, max_cin=20)),
        ("fc-pc", lambda: random_int8_fc(11, out=33, float_io=False)[0]),
        pytest.param("kws", lambda: shared_model("mlperf_tiny/kws/kws_ref_model.tflite").read_bytes(),
                     marks=pytest.mark.shared_models),
        ("sine-float", lambda: (EXAMPLES / "sine_float.tflite").read_bytes()),  # no quantization at all
    ]


@pytest.mark.parametrize("name,make", _models(), ids=[getattr(m, "values", m)[0] for m in _models()])
def test_flash_plan_matches_the_runtimes_own_path(name: str, make, tmp_path: Path) -> None:
    data = make()
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(data)
    model = read_model(path)
    quants = channel_quants(model)
    src = tmp_path / "model"
    src.mkdir()
    (src / "model_data.h").write_text(emit.model_data_h(model))
    lowering = lower_with(model, wide=False)
    (src / "model.h").write_text(emit.model_h(lowering))
    (src / "model_ops.cpp").write_text(emit.model_ops_cpp(lowering))
    (src / "model_plan.cpp").write_text(emit.model_plan_cpp(lowering))
    exe = tmp_path / "plan_check"
    planned = lowering.planned
    first_planned = next((p for p in planned if p is not None), None)
    # the full kernels (MF_VERIFY_PLAN), so init() also checks every planned op's data against prepare
    verify = ["-DMF_VERIFY_PLAN=1"] + ([f"-DMF_TAMPER_TYPE={first_planned.op_data_type}"] if first_planned else [])
    subprocess.run(["g++", *FLAGS, *verify, "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                    f"-I{RUNTIME_SRC}", f"-I{tmp_path}", str(HERE / "plan_check.cpp"),
                    str(src / "model_ops.cpp"), str(src / "model_plan.cpp"), *map(str, runtime_sources()),
                    "-o", str(exe)], check=True)
    x = model.input_tensors()[0]
    rng = np.random.default_rng(1)
    raw = (rng.normal(0, 1, x.elements).astype(np.float32) if x.dtype == "float32"
           else rng.integers(-128, 128, x.nbytes).astype(np.int8)).tobytes()
    res = subprocess.run([str(exe)], input=raw, capture_output=True, timeout=120)
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    lines = dict(line.split(" ", 1) for line in res.stdout.decode().splitlines())
    status, required, constant = lines["plan"].split()
    assert status == "ok" and required == constant  # the arena the generator sized is exact
    computed_status, computed_required = lines["computed"].split()
    channels = sum(len(q.multipliers) for q in quants if q)
    slack = 16 * sum(1 for q in quants if q)  # each op's state is rounded up to 16 bytes
    assert computed_status == "ok" and int(computed_required) - int(required) >= 8 * channels - slack
    assert lines["same-outputs"] == "1"
    if any(quants):
        tampered_status, op = lines["tampered"].split()
        first = next(i for i, q in enumerate(quants) if q)
        assert tampered_status == "bad-plan" and int(op) == first

    records = constant_records(model)
    assert records and len(records) == sum(t.constant for t in model.tensors)
    records_status, records_required = lines["arena-records"].split()
    assert records_status == "ok" and lines["same-outputs-records"] == "1"
    saved = int(records_required) - int(required)
    assert len(records) * 36 - 16 <= saved <= len(records) * 56 + 16  # sizeof(Tensor): 36 B on M4, 56 B here
    assert lines["tampered-record"] == "bad-plan"
    assert first_planned is not None  # every model here has a planned operator
    tampered_op_status, op = lines["tampered-op"].split()
    assert tampered_op_status == "bad-plan" and int(op) == planned.index(first_planned)
    # a full plan (every operator planned): its flash records, nodes and io ids are checked too
    assert lowering.full_plan == all(p is not None for p in planned)
    if lowering.full_plan:
        assert lines["tampered-node"] == lines["tampered-full-record"] == lines["tampered-io"] == "bad-plan"
    else:
        assert "tampered-node" not in lines


def _runtime_quick(tmp_path: Path, rows: list[tuple[int, ...]]) -> list[str]:
    exe = tmp_path / "quick_check"
    subprocess.run(["g++", *FLAGS, "-O1", f"-I{RUNTIME_SRC}", str(HERE / "quick_check.cpp"), "-o", str(exe)],
                   check=True)
    text = "".join(" ".join(str(v) for v in r) + "\n" for r in rows)
    return subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout.splitlines()


def _python_quick(m: int, s: int, off: int, bias: int, taps: int, zero: int) -> str:
    q = requant.make_quick(m, s, off, taps * 255 * 128 + abs(bias))
    if q is None and zero:
        q = requant.constant_quick(m, s, off, bias)
    if q is None:
        return "none"
    return f"{requant._wrap32(q[0])} {q[1]} {q[2]}"


def test_generator_short_requantization_equals_the_runtimes(tmp_path: Path) -> None:
    """microforge.lower.requant's QuickRequant forms against kernels/requant.h on random and edge channels
    (multipliers from real scales, shifts over the whole range, pruned channels' huge biases)."""
    rng = np.random.default_rng(11)
    rows = []
    for _ in range(40_000):
        q = quantize_multiplier(float(10.0 ** rng.uniform(-12, 0.5)))
        m, s = q if q is not None else (0, 0)
        bias = int(rng.integers(-(1 << 30), 1 << 30)) >> int(rng.integers(0, 31))
        rows.append((m, s, int(rng.integers(-128, 128)), bias, int(rng.integers(1, 600)), int(rng.integers(0, 2))))
    for m in (0, 1 << 30, (1 << 31) - 1):
        for s in (-31, -30, -24, -8, -1, 0, 3):
            for off in (-128, 0, 127):
                for bias in (-(1 << 31), -(1 << 29), -1, 0, 1, (1 << 29), (1 << 31) - 1):
                    rows.append((m, s, off, bias, 9, 1))
    got = _runtime_quick(tmp_path, rows)
    assert len(got) == len(rows)
    kinds = set()
    for r, line in zip(rows, got, strict=True):
        assert line == _python_quick(*r), r
        kinds.add(line.split()[-1] if line != "none" else "none")
    assert {"none", "1"} <= kinds and len(kinds) > 10  # refused, constant and ordinary forms all seen


@pytest.mark.shared_models
def test_generator_emits_short_requantization_for_the_zoo() -> None:
    """Every per-channel CONV_2D / DEPTHWISE_CONV_2D of VWW (951 pruned channels) and KWS gets its
    quick blocks, and they reproduce the reference requantization on sample accumulators."""
    for rel in ("mlperf_tiny/vww/vww_96_int8.tflite", "mlperf_tiny/kws/kws_ref_model.tflite"):
        model = read_model(shared_model(rel))
        rng = np.random.default_rng(3)
        for op, cq in zip(model.operators, channel_quants(model), strict=True):
            if op.op not in requant.QUICK_BLOCK or cq is None:
                continue
            words = requant.quick_blocks(model, op, cq)
            assert words is not None, (rel, op.index)
            block = requant.QUICK_BLOCK[op.op]
            off = model.tensors[op.outputs[0]].quant.zero_points[0]
            has_bias = len(op.inputs) > 2 and op.inputs[2] >= 0
            biases = requant.constant_array(model, op.inputs[2]) if has_bias else np.zeros(len(cq.multipliers))
            for c in range(len(cq.multipliers)):
                biases_at, at = requant.quick_offsets(block, c)
                q, bias = (words[at], words[at + 1], words[at + 2]), int(biases.reshape(-1)[c])
                assert all(words[i] == requant._wrap32(2 * bias) for i in biases_at)  # doubled, as the sums
                pruned = q[0] == 0 and q[2] == 1  # the constant form: exact for the weightless channel's bias
                xs = [bias] if pruned else [bias, *rng.integers(-(1 << 20), 1 << 20, 8).tolist()]
                for x in xs:
                    want = requant.multiply_by_quantized_multiplier(x, cq.multipliers[c], cq.shifts[c])
                    want = min(max(requant._wrap32(want + off), -128), 127)
                    assert min(max(requant.apply_quick(q, x), -128), 127) == want, (rel, op.index, c, x)


def test_wide_filter_layout_reads_back_as_the_filter() -> None:
    """microforge.lower.wide_filters' widened CONV_2D filter: per channel pair and group of four elements, the
    int16 pairs (k, k+2), (k+1, k+3) of both channels, doubled, zeros past the filter's row; an odd
    last channel left out."""
    from microforge.lower.wide_filters import wide_filter

    for seed, cin in ((3, 7), (4, 16)):
        data = conv_model(Case("conv", False, 0, SAME, True), seed, True, 3, cin, 9, cin=cin)
        model = parse_model(data)
        op = model.operators[0]
        cq = channel_quants(model)[0]
        words = wide_filter(model, op, cq)
        assert words is not None
        w = requant.constant_array(model, op.inputs[1]).astype(np.int64)
        out, k = w.shape[0], int(np.prod(w.shape[1:]))
        rows = w.reshape(out, k)
        groups = -(-k // 4)
        assert len(words) == (out // 2) * groups * 4
        halves = words.astype(np.uint32).view(np.int16).reshape(out // 2, groups, 2, 2, 2)  # pair, g, ch, word, half
        for p in range(out // 2):
            for g in range(groups):
                for ch in range(2):
                    for t in range(2):
                        for h in range(2):
                            e = 4 * g + t + 2 * h
                            want = 2 * rows[2 * p + ch, e] if e < k else 0  # doubled weights
                            assert halves[p, g, ch, t, h] == want, (seed, p, g, ch, t, h)


@pytest.mark.shared_models
def test_wide_filters_only_where_they_run_and_fit() -> None:
    import dataclasses

    from microforge.boards import get_boards
    from microforge.lower.wide_filters import use_wide_filters, wide_bytes

    model = read_model(shared_model("mlperf_tiny/kws/kws_ref_model.tflite"))
    quants = channel_quants(model)
    extra = wide_bytes(model, quants)
    # every CONV_2D filter of KWS has an even channel count; its FULLY_CONNECTED (12 x 64) has 3 whole quads
    fc = next(op for op in model.operators if op.op == "FULLY_CONNECTED")
    assert tuple(model.tensors[fc.inputs[1]].shape) == (12, 64)
    assert extra == 2 * sum(model.tensors[op.inputs[1]].elements for op in model.operators
                            if op.op in ("CONV_2D", "FULLY_CONNECTED"))
    m4, host = get_boards(["qemu-m4", "host"])
    small = dataclasses.replace(m4, flash_bytes=len(model.data) + extra)  # no room left for the code
    assert use_wide_filters(model, [m4], quants) and use_wide_filters(model, [m4, host], quants)
    assert not use_wide_filters(model, [host], quants)  # no core that runs the fast kernels
    assert not use_wide_filters(model, [m4, small], quants)
    assert "const uint32_t kWide" in emit.model_plan_cpp(lower_with(model, wide=True))
    assert "const uint32_t kWide" not in emit.model_plan_cpp(lower_with(model, wide=False))
    assert sum(o.wide.nbytes for o in lower_with(model, wide=True).ops if o.wide is not None) == extra


def test_wide_fc_filter_layout_reads_back_as_the_filter() -> None:
    """microforge.lower.wide_filters' widened FULLY_CONNECTED filter (issue 22): per quad of rows and
    group of four inputs the four rows' int16 pairs (k, k+2), (k+1, k+3), not doubled, zeros past the
    row; the last out % 4 rows left out; none where the quads do not run (no bias)."""
    from microforge.lower.wide_filters import wide_fc_filter

    for seed, depth, out in ((106, 20, 9), (105, 64, 12), (113, 1, 4), (100, 1024, 5)):
        model = parse_model(random_int8_fc(seed, depth=depth, out=out, float_io=False, use_bias=True,
                                           extreme_weights=True)[0])
        op = model.operators[0]
        words = wide_fc_filter(model, op)
        assert words is not None
        rows = requant.constant_array(model, op.inputs[1]).astype(np.int64)
        groups = -(-depth // 4)
        assert len(words) == (out // 4) * groups * 8
        halves = words.astype(np.uint32).view(np.int16).reshape(out // 4, groups, 4, 2, 2)  # quad, g, row, word, half
        for q in range(out // 4):
            for g in range(groups):
                for r in range(4):
                    for t in range(2):
                        for h in range(2):
                            e = 4 * g + t + 2 * h
                            want = rows[4 * q + r, e] if e < depth else 0
                            assert halves[q, g, r, t, h] == want, (seed, q, g, r, t, h)
    no_bias = parse_model(random_int8_fc(106, depth=8, out=8, float_io=False, use_bias=False)[0])
    assert wide_fc_filter(no_bias, no_bias.operators[0]) is None


@pytest.mark.parametrize("seed,depth,out,batch", [(106, 20, 8, 3), (100, 7, 7, 1), (113, 41, 9, 2), (105, 64, 14, 1),
                                                  (11, 33, 24, 2), (107, 1, 4, 1), (108, 1024, 6, 1)])
def test_wide_fc_plan_matches_the_runtimes_own_path(seed: int, depth: int, out: int, batch: int,
                                                    tmp_path: Path) -> None:
    """The widened FULLY_CONNECTED filter through the plan (kChannelQuant's wide; an entry without
    channels for per-tensor weights) in the host's fast kernels (MF_FAST_KERNELS=1: the C loop over
    it), against the same build without the plan's arrays (the int8 filter's path, which
    tests/runtime/test_fast_kernels.py holds to TFLM): the same outputs, the plan's op data equal to
    prepare's (MF_VERIFY_PLAN), inputs over the whole int8 range."""
    data, _ = random_int8_fc(seed, depth=depth, out=out, batch=batch, float_io=False, use_bias=True,
                             extreme_weights=seed % 2 == 1)
    path = tmp_path / "fc.tflite"
    path.write_bytes(data)
    model = read_model(path)
    lowering = lower_with(model, wide=True)
    assert lowering.ops[0].wide is not None
    src = tmp_path / "model"
    src.mkdir()
    (src / "model_data.h").write_text(emit.model_data_h(model))
    (src / "model.h").write_text(emit.model_h(lowering))
    (src / "model_ops.cpp").write_text(emit.model_ops_cpp(lowering))
    (src / "model_plan.cpp").write_text(emit.model_plan_cpp(lowering))
    exe = tmp_path / "plan_check"
    subprocess.run(["g++", *FLAGS, "-DMF_VERIFY_PLAN=1", "-DMF_FAST_KERNELS=1", "-O1", "-g",
                    "-fsanitize=address,undefined", "-fno-sanitize-recover=all", f"-I{RUNTIME_SRC}", f"-I{tmp_path}",
                    str(HERE / "plan_check.cpp"), str(src / "model_ops.cpp"), str(src / "model_plan.cpp"),
                    *map(str, runtime_sources()), "-o", str(exe)], check=True)
    rng = np.random.default_rng(seed)
    for i in range(4):
        raw = rng.integers(-128, 128, batch * depth).astype(np.int8)
        if i == 0:
            raw[::2], raw[1::2] = -128, 127
        res = subprocess.run([str(exe)], input=raw.tobytes(), capture_output=True, timeout=120)
        assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
        lines = dict(line.split(" ", 1) for line in res.stdout.decode().splitlines())
        assert lines["plan"].split()[0] == "ok" and lines["computed"].split()[0] == "ok"
        assert lines["same-outputs"] == "1", (seed, i)
