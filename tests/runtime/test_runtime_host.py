"""Host tests of the microforge runtime against TFLM's own Python interpreter.

The C++ driver (run_model.cpp, built once by the `driver` fixture with ASan + UBSan)
must match tflite-micro bit for bit.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from support import plan_tools as pt
from support import tflite_build as tb
from support.rt_common import (
    FLAGS,
    M4_FLAGS,
    RUNTIME_SRC,
    build_driver,
    ours,
    random_inputs,
    run,
    runtime_sources,
    shared_model,
    tflm,
    write,
)

SHARED = pytest.mark.shared_models  # the cases that read ../shared/models
ACTS = [tb.NONE, tb.RELU, tb.RELU_N1_TO_1, tb.RELU6]


# --- bit-exactness ------------------------------------------------------------


@pytest.mark.shared_models
def test_hello_world_int8_exhaustive(driver):
    model = shared_model("tflm/hello_world/hello_world_int8.tflite")
    inputs = [np.array([[v]], dtype=np.int8) for v in range(-128, 128)]
    assert ours(driver, model, inputs) == tflm(model.read_bytes(), inputs)


@pytest.mark.shared_models
def test_hello_world_float(driver):
    model = shared_model("tflm/hello_world/hello_world_float.tflite")
    inputs = random_inputs(model.read_bytes(), 300, seed=7, lo=-10, hi=10)
    assert ours(driver, model, inputs) == tflm(model.read_bytes(), inputs)


@pytest.mark.shared_models
def test_ad01_int8_random_and_golden(driver):
    model = shared_model("mlperf_tiny/ad/ad01_int8.tflite")
    inputs = random_inputs(model.read_bytes(), 100, seed=11)
    assert ours(driver, model, inputs) == tflm(model.read_bytes(), inputs)
    golden = np.load(shared_model("golden/ad01_int8.npz"))
    ins = [golden[f"in{k}_0"] for k in range(3)]
    assert ours(driver, model, ins) == [golden[f"out{k}_0"].tobytes().hex() for k in range(3)]


@pytest.mark.parametrize("act", ACTS)
def test_per_channel_quant_chain(driver, tmp_path, act):
    data = tb.quant_chain_model(act, seed=act, batch=2)
    model = write(tmp_path, "chain.tflite", data)
    inputs = random_inputs(data, 150, seed=100 + act, lo=-7, hi=7)
    assert ours(driver, model, inputs) == tflm(data, inputs)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("bias", [True, False])
def test_per_tensor_int8_fc(driver, tmp_path, act, bias):
    data = tb.int8_fc_model(act, seed=3 + act, bias=bias)
    model = write(tmp_path, "fc.tflite", data)
    inputs = random_inputs(data, 120, seed=200 + act)
    assert ours(driver, model, inputs) == tflm(data, inputs)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("bias", [True, False])
def test_float_fc_keep_num_dims(driver, tmp_path, act, bias):
    data = tb.float_fc_model(act, seed=5 + act, bias=bias)
    model = write(tmp_path, "ffc.tflite", data)
    inputs = random_inputs(data, 120, seed=300 + act, lo=-3, hi=3)
    assert ours(driver, model, inputs) == tflm(data, inputs)


@pytest.mark.parametrize("zp", [-3, 0, 9])
def test_quantize_dequantize_edges(driver, tmp_path, zp):
    """Rounding ties, saturation and non-finite inputs through QUANTIZE/DEQUANTIZE."""
    n = 64
    data = tb.build(
        [
            tb.T([1, n], tb.FLOAT32),
            tb.T([1, n], tb.INT8, scale=[0.5], zero_point=[zp]),
            tb.T([1, n], tb.FLOAT32),
        ],
        [tb.Op(tb.QUANTIZE, [0], [1]), tb.Op(tb.DEQUANTIZE, [1], [2])],
        [0],
        [2],
    )
    model = write(tmp_path, "qdq.tflite", data)
    special = [1e10, -1e10, 3e9, -3e9, np.inf, -np.inf, np.nan, 1073741823.75, -1073741824.25]
    rng = np.random.default_rng(zp + 50)
    inputs = [
        np.array([special + list(rng.integers(-80, 80, n - len(special)) / 2 + 0.25)], dtype=np.float32)
    ]
    inputs += [rng.uniform(-70, 70, (1, n)).astype(np.float32) for _ in range(100)]
    assert ours(driver, model, inputs) == tflm(data, inputs)


def test_dequantize_all_int8(driver, tmp_path):
    data = tb.build(
        [tb.T([1, 256], tb.INT8, scale=[0.0123], zero_point=[-17]), tb.T([1, 256], tb.FLOAT32)],
        [tb.Op(tb.DEQUANTIZE, [0], [1])],
        [0],
        [1],
    )
    inputs = [np.arange(-128, 128, dtype=np.int8).reshape(1, 256)]
    assert ours(driver, write(tmp_path, "dq.tflite", data), inputs) == tflm(data, inputs)


# --- arena contract and memory plans ---------------------------------------------


@pytest.mark.parametrize("which", [*(pytest.param(w, marks=SHARED) for w in ("hello_int8", "hello_float", "ad01")),
                                   "chain"])
def test_arena_bytes_formula_and_plan(driver, tmp_path, which):
    if which == "chain":
        model = write(tmp_path, "chain.tflite", tb.quant_chain_model(tb.RELU, seed=1))
    else:
        model = shared_model(
            {
                "hello_int8": "tflm/hello_world/hello_world_int8.tflite",
                "hello_float": "tflm/hello_world/hello_world_float.tflite",
                "ad01": "mlperf_tiny/ad/ad01_int8.tflite",
            }[which]
        )
    data = model.read_bytes()
    inputs = random_inputs(data, 20, seed=9)
    # No plan: bump allocation; arena_required() == mf::arena_bytes(...).
    base = ours(driver, model, inputs, "--expect", pt.expect_arg(data))
    act, offsets = pt.greedy_plan(data)
    planned = ours(
        driver, model, inputs, "--plan", pt.plan_arg(act, offsets), "--expect", pt.expect_arg(data, act)
    )
    assert planned == base == tflm(data, inputs)


@pytest.mark.shared_models
@pytest.mark.parametrize(
    "rel",
    [
        "tflm/hello_world/hello_world_int8.tflite",
        "tflm/hello_world/hello_world_float.tflite",
        "mlperf_tiny/ad/ad01_int8.tflite",
    ],
)
def test_generator_plan_runs(driver, rel):
    """The generator's own plan (microforge.lower.memory_plan) and arena formula agree with the runtime."""
    plan_mod = pytest.importorskip("microforge.lower.memory_plan")
    model_mod = pytest.importorskip("microforge.model")
    model = shared_model(rel)
    data = model.read_bytes()
    plan = plan_mod.plan_memory(model_mod.read_model(model))
    inputs = random_inputs(data, 10, seed=21)
    args = ["--plan", pt.plan_arg(plan.activation_bytes, plan.offsets)]
    args += ["--expect", pt.expect_arg(data, plan.activation_bytes)]
    assert ours(driver, model, inputs, *args) == tflm(data, inputs)


@pytest.mark.shared_models
def test_bad_plans(driver):
    model = shared_model("tflm/hello_world/hello_world_int8.tflite")
    data = model.read_bytes()
    act, offsets = pt.greedy_plan(data)
    tensors = pt.model_info(data)[0]
    act_t = next(i for i, t in enumerate(tensors) if not t[1])
    const_t = next(i for i, t in enumerate(tensors) if t[1])
    big_t = max((i for i, t in enumerate(tensors) if not t[1]), key=lambda i: tensors[i][0])
    bad = [(act - 1, offsets), (act, offsets[:-1])]
    for i, v in [(act_t, act), (act_t, -1), (act_t, -5), (const_t, 0), (big_t, act - tensors[big_t][0] + 1)]:
        o = list(offsets)
        o[i] = v
        bad.append((act, o))
    for a, o in bad:
        res = run(driver, model, bytes(1), "--plan", pt.plan_arg(a, o))
        assert res.returncode == 3 and b"error bad-plan" in res.stdout, (a, o, res.stdout)


# --- errors -------------------------------------------------------------------------


@pytest.mark.shared_models
def test_unsupported_op_reports_operator(driver, tmp_path):
    model = shared_model("tflm/hello_world/hello_world_int8.tflite")
    res = run(driver, model, b"", "--ops", "quantize,dequantize")
    assert res.returncode == 3
    assert res.stdout.decode().startswith("error unsupported-op op=0 code=9 ")
    chain = write(tmp_path, "chain.tflite", tb.quant_chain_model(tb.NONE, seed=2))
    res = run(driver, chain, b"", "--ops", "fc,quantize")
    assert res.stdout.decode().startswith("error unsupported-op op=3 code=6 ")
    # A version beyond the kernel's range is unsupported too.
    tensors = [tb.T([1, 4], tb.FLOAT32), tb.T([1, 4], tb.INT8, scale=[0.1], zero_point=[0])]
    v99 = write(
        tmp_path, "v99.tflite", tb.build(tensors, [tb.Op(tb.QUANTIZE, [0], [1], version=99)], [0], [1])
    )
    res = run(driver, v99, b"")
    assert res.stdout.decode().startswith("error unsupported-op op=0 code=114 ")


@pytest.mark.shared_models
def test_header_errors(driver, tmp_path):
    data = bytearray(shared_model("tflm/hello_world/hello_world_int8.tflite").read_bytes())
    bad_id = bytearray(data)
    bad_id[4:8] = b"TFL2"
    res = run(driver, write(tmp_path, "id.tflite", bytes(bad_id)))
    assert b"error bad-model" in res.stdout
    res = run(driver, write(tmp_path, "empty.tflite", b""))
    assert b"error bad-model" in res.stdout


@pytest.mark.parametrize("which", [pytest.param("hello_int8", marks=SHARED), pytest.param("hello_float", marks=SHARED),
                                   "chain", pytest.param("ad01", marks=SHARED)])
@pytest.mark.parametrize("structure_only", [False, True])
def test_corrupted_models_never_crash(driver, tmp_path, which, structure_only):
    if which == "chain":
        model = write(tmp_path, "chain.tflite", tb.quant_chain_model(tb.RELU6, seed=4))
    else:
        model = shared_model(
            {
                "hello_int8": "tflm/hello_world/hello_world_int8.tflite",
                "hello_float": "tflm/hello_world/hello_world_float.tflite",
                "ad01": "mlperf_tiny/ad/ad01_int8.tflite",
            }[which]
        )
    data = model.read_bytes()
    extra = ["--skip", pt.weight_ranges(data)] if structure_only else []
    res = run(driver, model, b"", "--corrupt", str(1234 + structure_only), *extra)
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    lines = dict(line.split(" ", 1) for line in res.stdout.decode().splitlines())
    n, ok = map(int, lines["truncated"].split(" ok "))
    assert n >= min(len(data), 4000) and ok == 0  # every truncation is an error
    n, ok = map(int, lines["flipped"].split(" ok "))
    assert n == 3000 and ok < n


@pytest.mark.shared_models
def test_clang_build_agrees(tmp_path):
    """The same checks with clang++ (ASan + UBSan, -Werror), when installed."""
    exe = build_driver("clang++", tmp_path)
    model = shared_model("tflm/hello_world/hello_world_int8.tflite")
    inputs = [np.array([[v]], dtype=np.int8) for v in range(-128, 128)]
    assert ours(exe, model, inputs) == tflm(model.read_bytes(), inputs)
    data = tb.quant_chain_model(tb.RELU, seed=8, batch=2)
    inputs = random_inputs(data, 100, seed=8, lo=-7, hi=7)
    assert ours(exe, write(tmp_path, "c.tflite", data), inputs) == tflm(data, inputs)


# --- Cortex-M4F build -----------------------------------------------------------------


def test_builds_for_cortex_m4f(tmp_path):
    if shutil.which("arm-none-eabi-g++") is None:
        pytest.skip("arm-none-eabi-g++ not installed")
    for src in runtime_sources():
        cmd = [
            "arm-none-eabi-g++",
            *FLAGS,
            *M4_FLAGS,
            f"-I{RUNTIME_SRC}",
            "-c",
            str(src),
            "-o",
            str(tmp_path / (src.stem + ".o")),
        ]
        subprocess.run(cmd, check=True)
