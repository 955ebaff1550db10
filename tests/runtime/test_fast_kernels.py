"""The fast int8 kernels (runtime/src/microforge/kernels/fast/) against tflite-micro.

On a CPU with the DSP extension (qemu-m4 and the real Cortex-M4/M7 boards) the firmware runs
them by default; here the ASan/UBSan driver is built with MF_FAST_KERNELS=1, which runs the same
kernel code with simd.h's portable forms of SXTB16/SMLAD, over random shapes that reach every
branch: 1-row and 2-row tiles, the channel and depth tails, padded borders, tap-free outputs,
and depth multipliers 4 and 8, and the layouts left to the reference kernels (dilation, depth
multiplier 2). The firmware tests
on qemu-m4 (tests/e2e, tests/memory) run the real instructions on the zoo models."""

from __future__ import annotations

import numpy as np
import pytest
from support import EXAMPLES
from support import build_conv as bc
from support import build_elementwise as be
from support import tflite_build as tb
from support.invocations import ALL_INT8, SCALES, check, check_calls
from support.random_fc import random_int8_fc
from support.rt_common import build_driver, ours, random_inputs, run, tflm, write
from support.zoo import by_name
from support.zoo_driver import check_zoo_model

ZOO = by_name("driver")


def _cases(kind: str) -> list[bc.Case]:
    return [c for c in bc.cases(kind) if not c.is_float]


@pytest.mark.parametrize("case", _cases("conv") + _cases("dw"), ids=str)
def test_fast_window_ops_random_shapes(fast_driver, tmp_path, case):
    seen: set[str] = set()
    for seed in range(6):
        # Up to 5x5 filters and 13 / 11 channels: runs of 4-byte words with 1-3 byte tails.
        model = bc.conv_model(case, 7000 + seed * 31 + bc.cases(case.kind).index(case), None, 5, 13, 11)
        inputs = random_inputs(model, 6, seed=seed)
        want = tflm(model, inputs)
        assert ours(fast_driver, write(tmp_path, f"m{seed}.tflite", model), inputs) == want, f"{case} seed {seed}"
        seen.update(want)
    assert len(seen) > 1


@pytest.mark.parametrize("kind", ["conv", "dw"])
def test_fast_pruned_channels(fast_driver, tmp_path, kind):
    """Channels without weights, with scales of 1e-9 and biases near +-2^29 (VWW has 951): the
    short requantization gives them a constant form."""
    for seed in range(4):
        case = bc.Case(kind, False, seed % 4, bc.SAME if seed % 2 else bc.VALID, per_channel=True)
        model = bc.conv_model(case, 9100 + seed, True, 3, 9, 12, dead=1 + seed)
        inputs = random_inputs(model, 6, seed=seed)
        want = tflm(model, inputs)
        assert ours(fast_driver, write(tmp_path, f"m{seed}.tflite", model), inputs) == want, f"{kind} seed {seed}"


@pytest.mark.parametrize("mult", [4, 8])
def test_fast_depthwise_multiplier(fast_driver, tmp_path, mult):
    """Depth multipliers that are multiples of 4 (person_detect and micro_speech use 8)."""
    for seed in range(4):
        case = bc.Case("dw", False, seed % 4, bc.SAME if seed % 2 else bc.VALID, per_channel=bool(seed % 3),
                       stride=(1 + seed % 2, 1 + seed // 2 % 2), mult=mult)
        # seed 3: a 10x8 filter (80 taps, as micro_speech's), in blocks of 8 channels
        filt = (10, 8) if seed == 3 else None
        model = bc.conv_model(case, 8800 + seed, None, 5, 3, 11, cin=1 + seed % 3, filt=filt)
        inputs = random_inputs(model, 6, seed=seed)
        assert ours(fast_driver, write(tmp_path, f"m{seed}.tflite", model), inputs) == tflm(model, inputs)


@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (1, 2)])
def test_fast_depthwise_3x3_rows(fast_driver, tmp_path, stride):
    """3x3 depthwise a row at a time through the widened band: rows longer than one run of pixels
    (230 columns), more channel groups than one block (44 channels) plus a tail, short inputs."""
    for seed, (size, cin) in enumerate([((4, 230), 44), ((5, 3), 47), ((1, 1), 8), ((3, 9), 36)]):
        case = bc.Case("dw", False, seed % 4, bc.SAME if seed % 2 == 0 else bc.VALID, per_channel=bool(seed % 2),
                       stride=stride)
        model = bc.conv_model(case, 9400 + seed, None, 3, 3, 11, filt=(3, 3), cin=cin, size=size)
        inputs = random_inputs(model, 3, seed=seed)
        assert ours(fast_driver, write(tmp_path, f"m{seed}.tflite", model), inputs) == tflm(model, inputs), seed


@pytest.mark.parametrize("case", [c for c in _cases("avg")], ids=str)
def test_fast_average_pool(fast_driver, tmp_path, case):
    """int8 AVERAGE_POOL_2D: window sums in 16-bit halves, four channels at a time, plus the
    depth tail; a whole-input window (KWS's 25x5 over 64 channels) and a 17x16 one (over 256
    elements: left to the reference loop)."""
    shapes = [(None, 13, None), ((3, 2), 9, None), ((25, 5), 64, (25, 5)), ((17, 16), 6, (17, 16))]
    for seed, (filt, ch, size) in enumerate(shapes):
        model = bc.pool_model(case, 9500 + seed, filt=filt, ch=ch, size=size)
        inputs = random_inputs(model, 3, seed=seed)
        assert ours(fast_driver, write(tmp_path, f"m{seed}.tflite", model), inputs) == tflm(model, inputs), seed


def test_fast_average_pool_extreme_sums(fast_driver, tmp_path):
    """256-element windows of -128 and of 127: the largest sums a 16-bit half holds."""
    case = bc.Case("avg", False, tb.NONE, bc.VALID)
    model = bc.pool_model(case, 9600, filt=(16, 16), ch=8, size=(16, 16))
    shape = random_inputs(model, 1, seed=0)[0].shape
    inputs = [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)]
    assert ours(fast_driver, write(tmp_path, "m.tflite", model), inputs) == tflm(model, inputs)


def test_fast_depthwise_large_filters(fast_driver, tmp_path):
    """7x7 and 9x9 depthwise filters (49 and 81 taps): channel blocks smaller than 32."""
    for seed, filt in enumerate([(7, 7), (9, 9)]):
        case = bc.Case("dw", False, tb.RELU, bc.SAME, per_channel=True)
        model = bc.conv_model(case, 9300 + seed, None, 3, 3, 11, cin=21, filt=filt)
        inputs = random_inputs(model, 4, seed=seed)
        assert ours(fast_driver, write(tmp_path, f"m{seed}.tflite", model), inputs) == tflm(model, inputs)


@pytest.mark.parametrize("filt,size", [((3, 2), (2, 3)), ((2, 3), (3, 2)), ((3, 3), (2, 2))])
def test_fast_conv_filter_larger_than_input(fast_driver, tmp_path, filt, size):
    """A filter taller or wider than the input, SAME padding of one row or column: no window lies
    inside the input, so none may be read straight from its rows (PatchPlan)."""
    case = bc.Case("conv", False, tb.NONE, bc.SAME, per_channel=True)
    model = bc.conv_model(case, 25, False, 3, 8, 5, filt=filt, cin=8, size=size)
    inputs = random_inputs(model, 4, seed=1)
    assert ours(fast_driver, write(tmp_path, "m.tflite", model), inputs) == tflm(model, inputs)


def test_fast_conv_padding_larger_than_input(fast_driver, tmp_path):
    """SAME padding with a 5x5 filter on a 1x2 input: most taps of every output lie outside."""
    case = bc.Case("conv", False, tb.NONE, bc.SAME, per_channel=True)
    rng = np.random.default_rng(3)
    for seed in range(40):
        model = bc.conv_model(case, 9100 + seed, True, 5, 9, 9)
        import tflite

        shape = tflite.Model.GetRootAsModel(model, 0).Subgraphs(0).Tensors(0).ShapeAsNumpy()
        if shape[1] > 3 and shape[2] > 3:
            continue
        inputs = random_inputs(model, 4, seed=int(rng.integers(0, 1000)))
        assert ours(fast_driver, write(tmp_path, "m.tflite", model), inputs) == tflm(model, inputs)


@pytest.mark.parametrize("block", range(2))
def test_fast_fully_connected_random(fast_driver, tmp_path, block):
    for seed in range(500 + block * 20, 500 + block * 20 + 20):
        model, inputs = random_int8_fc(seed)
        got = ours(fast_driver, write(tmp_path, f"r{seed}.tflite", model), inputs)
        assert got == tflm(model, inputs), f"seed {seed}"


def test_fast_fully_connected_deep_rows(fast_driver, tmp_path):
    """Rows deeper than the widened row holds (1,024; micro_speech's are 4,000) take the
    on-the-fly loop: four rows a pass and single rows after, depth tails, with and without bias,
    zero and non-zero input offsets, per-tensor and per-channel weights (the random draws)."""
    # seeds 706-710 draw per-channel weights, 700-702 per-tensor; activations 0-3
    cases = [(700, 1025, 7), (706, 4000, 4), (701, 1027, 9), (707, 2050, 1), (702, 1031, 6), (708, 1100, 13),
             (710, 1026, 5)]
    for seed, (draw, depth, out) in enumerate(cases):
        model, inputs = random_int8_fc(draw, depth=depth, out=out, float_io=False,
                                       use_bias=seed % 2 == 0, **({"in_zp": 0} if seed == 2 else {}))
        got = ours(fast_driver, write(tmp_path, f"d{seed}.tflite", model), inputs[:4])
        assert got == tflm(model, inputs[:4]), f"seed {seed}"


@pytest.mark.shared_models
@pytest.mark.parametrize("name", sorted(ZOO))
def test_fast_zoo_model(fast_driver, name):
    check_zoo_model(fast_driver, name)


@pytest.mark.parametrize("code", ["ADD", "SUB", "MUL"])
def test_fast_binary_ops(fast_driver, tmp_path, code):
    """int8 ADD / SUB / MUL on same shapes take the flat loop (broadcasts the reference's walk):
    random models, then every pair of int8 values in one same-shape invocation."""
    op = getattr(be, code)
    for seed in range(30):
        check(fast_driver, tmp_path, f"bin{code}_{seed}", be.binary_model(op, seed), seed, special=True)
    pairs = np.stack(np.meshgrid(ALL_INT8, ALL_INT8, indexing="ij"), axis=-1).reshape(65536, 2)
    kind = {"ADD": "AddOptions", "SUB": "SubOptions", "MUL": "MulOptions"}[code]
    for i, (s1, s2, so) in enumerate(SCALES):
        if code == "MUL":
            so = float(np.float32(s1 * s2 * 40))
        zps = [(-128, 127, 0), (3, -7, -100), (0, 0, 5), (127, -128, -1), (-50, 60, 90)][i]
        tensors = [
            tb.T([65536], tb.INT8, scale=[s1], zero_point=[zps[0]]),
            tb.T([65536], tb.INT8, scale=[s2], zero_point=[zps[1]]),
            tb.T([65536], tb.INT8, scale=[so], zero_point=[zps[2]]),
        ]
        node = tb.Op(op, [0, 1], [2], version=2, options=be.options(kind, FusedActivationFunction=i % 4))
        model = tb.build(tensors, [node], [0, 1], [2])
        check_calls(fast_driver, tmp_path, f"flat{code}_{i}", model,
                    [[np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])]])


FAST_ONLY = ("MF_FAST_KERNELS=1", "MF_MODEL_CONV_FAST_ONLY=1", "MF_MODEL_DEPTHWISE_FAST_ONLY=1",
             "MF_MODEL_FC_FAST_ONLY=1", "MF_MODEL_NO_DEPTH_MULTIPLIER=1", "MF_MODEL_POOL_FAST_ONLY=1",
             "MF_MODEL_FC_DEEP=0")


@pytest.fixture(scope="module")
def fast_only_driver(tmp_path_factory):
    """The driver built as a model's firmware is when the generator finds every layout covered:
    no reference int8 CONV / DEPTHWISE / FC loop."""
    return build_driver("g++", tmp_path_factory.mktemp("fast_only"), FAST_ONLY)


def _fast_only_models():
    """Layouts on both sides of each fast path's limits: dilation, patch and FC depth sizes,
    depth multipliers 1, 2 and 4, AVERAGE_POOL_2D windows."""
    out = []
    for seed in range(3):
        out.append(bc.conv_model(bc.Case("conv", False, 0, bc.SAME, True), 40 + seed, None, 3, 13, 11))
        out.append(bc.conv_model(bc.Case("conv", False, 1, bc.VALID, True, dilation=(2, 1)), 50 + seed,
                                 None, 3, 5, 6))
        out.append(bc.conv_model(bc.Case("dw", False, 0, bc.SAME, True, mult=(1, 2, 4)[seed]), 60 + seed,
                                 None, 3, 5, 8))
        out.append(random_int8_fc(70 + seed, depth=(200, 1024, 1025)[seed], float_io=False)[0])
    out.append(bc.conv_model(bc.Case("conv", False, 0, bc.SAME, False), 80, None, 3, 13, 11, filt=(3, 3), cin=65))
    for filt in ((16, 16), (17, 16)):  # AVERAGE_POOL_2D windows of 256 and 272 elements
        out.append(bc.pool_model(bc.Case("avg", False, 0, bc.VALID), 90, filt=filt, ch=5, size=filt))
    return out


def test_generator_variant_flags_match_the_fast_paths(fast_only_driver, tmp_path):
    """microforge.lower.build_flags decides from the model alone which flags a build gets; a firmware built
    with a flag must never meet an operator its fast path refuses. The driver here has every flag:
    a model the generator gives all of them runs bit-exact with TFLM, any other is refused
    (unsupported-type, at init or, for a pool window, at invoke), never computed wrong."""
    from microforge.lower.build_flags import build_flags
    from microforge.model import read_model

    every = {f"-D {d}" for d in FAST_ONLY[1:]}
    kinds = set()
    for i, model in enumerate(_fast_only_models()):
        path = write(tmp_path, f"v{i}.tflite", model)
        flags = set(build_flags(read_model(path)))
        inputs = random_inputs(model, 3, seed=i)
        res = run(fast_only_driver, path, b"".join(x.tobytes() for x in inputs))
        if flags >= every:
            assert res.returncode == 0 and res.stdout.decode().split() == tflm(model, inputs), f"model {i}"
            kinds.add("covered")
        else:
            assert res.returncode != 0 and "unsupported-type" in res.stdout.decode(), f"model {i}: {flags}"
            kinds.add("refused")
    assert kinds == {"covered", "refused"}


def test_no_float_build_refuses_float_nodes_and_runs_int8(tmp_path):
    """-D MF_MODEL_NO_FLOAT=1 (microforge.lower.build_flags: no float32 CONV / DEPTHWISE / FC / pool /
    SOFTMAX node) leaves the float loops out: an int8 model still runs bit-exact with TFLM, a float
    one is refused at invoke (unsupported-type), never computed wrong. The generator gives the flag
    to the first and not the second."""
    from microforge.lower.build_flags import build_flags
    from microforge.model import read_model

    driver = build_driver("g++", tmp_path, ("MF_MODEL_NO_FLOAT=1",))
    examples = EXAMPLES
    int8 = bc.conv_model(bc.Case("conv", False, tb.RELU6, bc.SAME, True), 5, None, 3, 6, 7)
    int8_path = write(tmp_path, "int8.tflite", int8)
    assert "-D MF_MODEL_NO_FLOAT=1" in build_flags(read_model(int8_path))
    inputs = random_inputs(int8, 3, seed=2)
    res = run(driver, int8_path, b"".join(x.tobytes() for x in inputs))
    assert res.returncode == 0 and res.stdout.decode().split() == tflm(int8, inputs)

    sine = examples / "sine_float.tflite"
    assert "-D MF_MODEL_NO_FLOAT=1" not in build_flags(read_model(sine))
    res = run(driver, sine, np.zeros(1, np.float32).tobytes())
    assert res.returncode != 0 and "unsupported-type" in res.stdout.decode()
