"""Element-wise and shape kernels (ADD, SUB, MUL, SOFTMAX, RESHAPE, SQUEEZE, EXPAND_DIMS) against
tflite-micro: random models (shapes, broadcasting, activations, beta, quantization), each run on
seeded random inputs through the ASan/UBSan driver and compared bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from support import build_elementwise as be
from support import tflite_build as tb
from support.invocations import ALL_INT8, SCALES, check, check_calls, ours, random_invocations, reference
from support.rt_common import run, shared_model, write
from support.zoo import select


@pytest.mark.parametrize("code", [be.ADD, be.SUB, be.MUL])
def test_binary_ops_random(driver, tmp_path, code):
    for seed in range(30):
        check(driver, tmp_path, f"bin{code}_{seed}", be.binary_model(code, seed), seed, special=True)


def test_softmax_random(driver, tmp_path):
    for seed in range(36):
        check(driver, tmp_path, f"softmax{seed}", be.softmax_model(seed), seed)


def test_softmax_int8_extremes(driver, tmp_path):
    """Large input scale (many entries below diff_min), tiny scale, beta != 1, long rows."""
    for i, (scale, beta, depth) in enumerate([(0.5, 1.0, 10), (0.002, 1.0, 300), (0.1, 0.3, 511), (1.0, 7.5, 12)]):
        shape = [2, depth]
        tensors = [tb.T(shape, tb.INT8, scale=[scale], zero_point=[5]),
                   tb.T(shape, tb.INT8, scale=[1 / 256], zero_point=[-128])]
        op = tb.Op(be.SOFTMAX, [0], [1], version=2, options=be.options("SoftmaxOptions", Beta=beta))
        check(driver, tmp_path, f"smx{i}", tb.build(tensors, [op], [0], [1]), 100 + i)


@pytest.mark.parametrize("code", [be.RESHAPE, be.SQUEEZE, be.EXPAND_DIMS])
def test_shape_ops(driver, tmp_path, code):
    for seed in range(12):
        check(driver, tmp_path, f"shape{code}_{seed}", be.shape_model(code, seed), seed)


def test_chain_through_all_kernels(driver, tmp_path):
    """int8 graph: ADD (broadcast) -> MUL -> SUB -> RESHAPE -> SOFTMAX, with the arena formula checked."""
    rng = np.random.default_rng(7)
    pairs = zip(rng.uniform(0.01, 0.1, 6), rng.integers(-20, 20, 6), strict=True)
    q = [([float(np.float32(s))], [int(z)]) for s, z in pairs]
    c = rng.integers(-128, 128, [1, 8]).astype(np.int8)
    tensors = [
        tb.T([3, 8], tb.INT8, scale=q[0][0], zero_point=q[0][1]),
        tb.T([1, 8], tb.INT8, c, scale=q[1][0], zero_point=q[1][1]),
        tb.T([3, 8], tb.INT8, scale=q[2][0], zero_point=q[2][1]),
        tb.T([3, 8], tb.INT8, scale=[q[2][0][0] * q[0][0][0] * 3], zero_point=q[3][1]),
        tb.T([3, 8], tb.INT8, scale=q[4][0], zero_point=q[4][1]),
        tb.T([24], tb.INT8, scale=q[4][0], zero_point=q[4][1]),
        tb.T([24], tb.INT8, scale=[1 / 256], zero_point=[-128]),
    ]
    ops = [
        tb.Op(be.ADD, [0, 1], [2], version=2, options=be.options("AddOptions", FusedActivationFunction=tb.RELU)),
        tb.Op(be.MUL, [2, 0], [3], version=2, options=be.options("MulOptions", FusedActivationFunction=0)),
        tb.Op(be.SUB, [3, 2], [4], version=2, options=be.options("SubOptions", FusedActivationFunction=tb.RELU6)),
        tb.Op(be.RESHAPE, [4], [5], options=be.options("ReshapeOptions")),
        tb.Op(be.SOFTMAX, [5], [6], version=2, options=be.options("SoftmaxOptions", Beta=0.7)),
    ]
    model = tb.build(tensors, ops, [0], [6])
    check(driver, tmp_path, "chain", model, 7)
    # arena_required() == mf::arena_bytes(activations, tensors, nodes, io slots, kernel state)
    act = sum((n + 15) // 16 * 16 for n in (24, 24, 24, 24, 24, 24))
    codes = ",".join(f"{o.code}:0" for o in ops)
    res = run(driver, write(tmp_path, "chain.tflite", model), b"", "--expect", f"{act},7,5,13{',' + codes}")
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()


def test_rejects_bad_nodes(driver, tmp_path):
    """Mismatched shapes and wrong softmax output quantization fail in prepare, not at eval."""
    bad = [
        # ADD whose output shape is not the broadcast shape
        ([tb.T([2, 3], tb.FLOAT32), tb.T([3], tb.FLOAT32), tb.T([2, 4], tb.FLOAT32)],
         tb.Op(be.ADD, [0, 1], [2], options=be.options("AddOptions"))),
        # int8 SOFTMAX with an output zero point other than -128
        ([tb.T([1, 4], tb.INT8, scale=[0.1], zero_point=[0]), tb.T([1, 4], tb.INT8, scale=[1 / 256], zero_point=[0])],
         tb.Op(be.SOFTMAX, [0], [1], version=2, options=be.options("SoftmaxOptions", Beta=1.0))),
        # RESHAPE changing the element count
        ([tb.T([2, 3], tb.INT8, scale=[0.1], zero_point=[0]), tb.T([5], tb.INT8, scale=[0.1], zero_point=[0])],
         tb.Op(be.RESHAPE, [0], [1])),
    ]
    for i, (tensors, op) in enumerate(bad):
        ins = list(range(len(tensors) - 1))
        path = write(tmp_path, f"bad{i}.tflite", tb.build(tensors, [op], ins, [len(tensors) - 1]))
        res = run(driver, path, b"")
        assert res.returncode == 3 and res.stdout.decode().startswith("error kernel-error op=0"), res.stdout



@pytest.mark.parametrize("code", [be.ADD, be.SUB, be.MUL])
def test_binary_int8_exhaustive(driver, tmp_path, code):
    """Every pair of int8 values in one broadcast invocation ([256, 1] op [1, 256]), several
    scales / zero points / activations."""
    kind = {be.ADD: "AddOptions", be.SUB: "SubOptions", be.MUL: "MulOptions"}[code]
    for i, (s1, s2, so) in enumerate(SCALES):
        if code == be.MUL:
            so = float(np.float32(s1 * s2 * 40))
        zps = [(-128, 127, 0), (3, -7, -100), (0, 0, 5), (127, -128, -1), (-50, 60, 90)][i]
        tensors = [
            tb.T([256, 1], tb.INT8, scale=[s1], zero_point=[zps[0]]),
            tb.T([1, 256], tb.INT8, scale=[s2], zero_point=[zps[1]]),
            tb.T([256, 256], tb.INT8, scale=[so], zero_point=[zps[2]]),
        ]
        op = tb.Op(code, [0, 1], [2], version=2, options=be.options(kind, FusedActivationFunction=i % 4))
        model = tb.build(tensors, [op], [0, 1], [2])
        check_calls(driver, tmp_path, f"ex{code}_{i}", model, [[ALL_INT8.reshape(256, 1), ALL_INT8.reshape(1, 256)]])


def test_softmax_int8_all_pairs(driver, tmp_path):
    """Depth-2 rows holding every pair of int8 values, for several input scales and betas."""
    grid = np.stack(np.meshgrid(ALL_INT8, ALL_INT8, indexing="ij"), axis=-1).reshape(65536, 2)
    for i, (scale, beta) in enumerate([(0.1, 1.0), (0.0123, 2.5), (0.35, 0.8), (0.004, 1.0), (0.9, 1.7)]):
        tensors = [tb.T([65536, 2], tb.INT8, scale=[scale], zero_point=[-3]),
                   tb.T([65536, 2], tb.INT8, scale=[1 / 256], zero_point=[-128])]
        op = tb.Op(be.SOFTMAX, [0], [1], version=2, options=be.options("SoftmaxOptions", Beta=beta))
        check_calls(driver, tmp_path, f"pairs{i}", tb.build(tensors, [op], [0], [1]), [[grid]])


def test_mean_random(driver, tmp_path):
    for seed in range(45):
        check(driver, tmp_path, f"mean{seed}", be.random_mean_model(seed), seed)


@pytest.mark.parametrize("quant", ["float", "same", "int8"])
def test_mean_spatial_and_axis_forms(driver, tmp_path, quant):
    """4D keep_dims over axes {1, 2} (older TFLMs had a special int8 path there, with other rounding:
    100 inputs tell them apart), the same axes written negatively, without keep_dims, long reductions."""
    cases = [([1, 5, 7, 3], [1, 2], True), ([2, 4, 3, 5], [2, 1], True), ([1, 5, 7, 3], [-3, -2], True),
             ([2, 4, 3, 5], [1, 2], False), ([1, 1, 300, 2], [1, 2], True), ([3, 200], [1], False)]
    for i, (shape, axes, keep) in enumerate(cases):
        check(driver, tmp_path, f"mean_{quant}_{i}", be.mean_model(shape, axes, keep, quant, seed=i), i, n=100)


def test_pad_random(driver, tmp_path):
    for seed in range(30):
        check(driver, tmp_path, f"pad{seed}", be.pad_model(seed), seed)


def test_concatenation_random(driver, tmp_path):
    for seed in range(30):
        check(driver, tmp_path, f"concat{seed}", be.concat_model(seed), seed)


def litert_reference(model: bytes, calls: list[list[np.ndarray]]) -> list[str]:
    """LiteRT with its reference kernels (BUILTIN_REF), for ops where TFLM is known wrong."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    ins, out = it.get_input_details(), it.get_output_details()[0]["index"]
    got = []
    for call in calls:
        for det, x in zip(ins, call, strict=True):
            it.set_tensor(det["index"], x)
        it.invoke()
        got.append(it.get_tensor(out).tobytes().hex())
    return got


@pytest.mark.parametrize("code", [be.RELU, be.RELU6, be.LEAKY_RELU])
def test_activations_random(driver, tmp_path, code):
    """Random shapes with NaN / inf for float; int8 RELU6 against LiteRT's reference (README)."""
    for seed in range(24):
        model = be.activation_model(code, seed)
        calls = random_invocations(model, seed, special=True)
        want = litert_reference(model, calls) if code == be.RELU6 and seed % 3 != 2 else reference(model, calls)
        assert ours(driver, write(tmp_path, f"act{code}_{seed}.tflite", model), calls) == want, seed


@pytest.mark.parametrize("code", [be.RELU, be.RELU6, be.LEAKY_RELU])
def test_activations_int8_exhaustive(driver, tmp_path, code):
    """All 256 int8 inputs, 12 random quantizations each."""
    calls = [[np.arange(-128, 128, dtype=np.int8)]]
    for seed in [s for s in range(18) if s % 3 != 2]:
        model = be.activation_model(code, seed, shape=[256])
        want = litert_reference(model, calls) if code == be.RELU6 else reference(model, calls)
        assert ours(driver, write(tmp_path, f"ex{code}_{seed}.tflite", model), calls) == want, seed


def test_relu6_int8_tflm_differs():
    """The reason RELU6 follows LiteRT: TFLM ignores the output quantization (if this starts to
    fail, TFLM was fixed and RELU6 can be compared with it again)."""
    model = be.activation_model(be.RELU6, 0, shape=[256])
    calls = [[np.arange(-128, 128, dtype=np.int8)]]
    assert reference(model, calls) != litert_reference(model, calls)


def test_transpose_random(driver, tmp_path):
    for seed in range(30):
        check(driver, tmp_path, f"transpose{seed}", be.transpose_model(seed), seed)


def test_strided_slice_random(driver, tmp_path):
    models = [m for m in (be.strided_slice_model(seed) for seed in range(120)) if m is not None]
    assert len(models) >= 40
    for i, model in enumerate(models):
        check(driver, tmp_path, f"ss{i}", model, i)


ZOO = [z.rel for z in select("elementwise")]


@pytest.mark.shared_models
@pytest.mark.parametrize("rel", ZOO)
def test_zoo_models_whose_ops_exist(driver, rel):
    """Whole models from ../shared that use these kernels: bit-exact with TFLM when every op
    they need is in the runtime (skipped, naming the gap, otherwise)."""
    path = shared_model(rel)
    model = path.read_bytes()
    probe = run(driver, path, b"")
    if probe.stdout.decode().startswith("error unsupported-op"):
        pytest.skip(f"{rel}: {probe.stdout.decode().strip()}")
    calls = random_invocations(model, 3, n=3)
    assert ours(driver, path, calls) == reference(model, calls), rel


@pytest.mark.parametrize("code", [be.LOGISTIC, be.TANH])
def test_sigmoids(driver, tmp_path, code):
    """Float with NaN / inf on random shapes; int8 on all 256 inputs for 20 input quantizations."""
    for seed in range(2, 60, 3):
        check(driver, tmp_path, f"sig{code}_{seed}", be.sigmoid_model(code, seed), seed, special=True)
    calls = [[np.arange(-128, 128, dtype=np.int8)]]
    for seed in [s for s in range(30) if s % 3 != 2]:
        check_calls(driver, tmp_path, f"sigex{code}_{seed}", be.sigmoid_model(code, seed, shape=[256]), calls)


def test_hard_swish(driver, tmp_path):
    """Float with NaN / inf; int8 on all 256 inputs for 20 random input / output quantizations."""
    for seed in range(2, 60, 3):
        check(driver, tmp_path, f"hs{seed}", be.activation_model(be.HARD_SWISH, seed), seed, special=True)
    calls = [[np.arange(-128, 128, dtype=np.int8)]]
    for seed in [s for s in range(30) if s % 3 != 2]:
        check_calls(driver, tmp_path, f"hsex{seed}", be.activation_model(be.HARD_SWISH, seed, shape=[256]), calls)
