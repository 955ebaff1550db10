"""The fast kernels built without the C tile loops (MF_MODEL_CONV_TILES_ONLY, MF_MODEL_FC_QUADS_ONLY)
and without the general depthwise path (MF_MODEL_DEPTHWISE_3X3_ONLY), on the host under ASan/UBSan:
there the assembly routines do not exist, so every CONV_2D and FULLY_CONNECTED output runs through
the one-output fallback (dot_row), bit-exact with TFLM; a depthwise layout only the general path
covers is refused (unsupported-type), and microforge.lower.build_flags gives the flag to exactly the models
that need no such layout. Built without the kernels' own short requantization
(MF_MODEL_QUICK_FROM_PLAN), a node without the generator's is refused or left to the reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import build_conv as bc
from support.random_fc import random_int8_fc
from support.rt_common import build_driver, ours, random_inputs, run, tflm, write

ONLY = ("MF_FAST_KERNELS=1", "MF_MODEL_CONV_TILES_ONLY=1", "MF_MODEL_FC_QUADS_ONLY=1",
        "MF_MODEL_DEPTHWISE_3X3_ONLY=1", "MF_MODEL_DEPTHWISE_FAST_ONLY=1")


@pytest.fixture(scope="module")
def only_driver(tmp_path_factory) -> Path:
    return build_driver("g++", tmp_path_factory.mktemp("routines_only"), ONLY)


def test_conv_and_fc_one_output_at_a_time(only_driver, tmp_path):
    """Odd channel counts, k % 4 tails, padding, no bias, per-tensor and per-channel weights."""
    seen: set[str] = set()
    for seed in range(8):
        case = bc.Case("conv", False, seed % 4, bc.SAME if seed % 2 else bc.VALID, per_channel=bool(seed % 3))
        conv = bc.conv_model(case, 7300 + seed, None, 5, 13, 11)
        fc = random_int8_fc(7400 + seed, float_io=False)[0]
        for name, model in (("conv", conv), ("fc", fc)):
            inputs = random_inputs(model, 4, seed=seed)
            want = tflm(model, inputs)
            assert ours(only_driver, write(tmp_path, f"{name}{seed}.tflite", model), inputs) == want, (name, seed)
            seen.update(want)
    assert len(seen) > 1


def test_depthwise_3x3_only_matches_the_generator(only_driver, tmp_path):
    """Depth multiplier 1: 3x3 on whole groups of 4 channels runs (bit-exact), any other filter or a
    channel tail is refused at init; the generator's flag says which, model by model."""
    from microforge.lower.build_flags import build_flags
    from microforge.model import read_model

    kinds = set()
    for seed, (filt, cin) in enumerate([((3, 3), 8), ((3, 3), 13), ((5, 5), 8), ((3, 3), 3), ((3, 3), 44),
                                        ((1, 3), 8)]):
        case = bc.Case("dw", False, seed % 4, bc.SAME if seed % 2 else bc.VALID, per_channel=bool(seed % 2),
                       stride=(1 + seed % 2, 1))
        model = bc.conv_model(case, 7500 + seed, None, 3, 3, 11, filt=filt, cin=cin)
        path = write(tmp_path, f"dw{seed}.tflite", model)
        inputs = random_inputs(model, 3, seed=seed)
        res = run(only_driver, path, b"".join(x.tobytes() for x in inputs))
        if "-D MF_MODEL_DEPTHWISE_3X3_ONLY=1" in build_flags(read_model(path)):
            assert res.returncode == 0 and res.stdout.decode().split() == tflm(model, inputs), seed
            kinds.add("covered")
        else:
            assert res.returncode != 0 and "unsupported-type" in res.stdout.decode(), seed
            kinds.add("refused")
    assert kinds == {"covered", "refused"}


@pytest.mark.parametrize("fast_only", [True, False])
def test_quick_from_plan_needs_the_plan(tmp_path, fast_only):
    """MF_MODEL_QUICK_FROM_PLAN leaves out the kernels' own short requantization: this driver runs
    models without the generator's plan, so the fast path refuses their CONV_2D and depthwise nodes;
    they run in the reference loop where it is built, else init refuses them (never garbage)."""
    defines = ("MF_FAST_KERNELS=1", "MF_MODEL_QUICK_FROM_PLAN=1",
               *(("MF_MODEL_CONV_FAST_ONLY=1", "MF_MODEL_DEPTHWISE_FAST_ONLY=1") if fast_only else ()))
    driver = build_driver("g++", tmp_path, defines)
    for seed, kind in enumerate(("conv", "dw")):
        model = bc.conv_model(bc.Case(kind, False, seed, bc.SAME, per_channel=True), 7600 + seed, None, 3, 8, 8)
        path = write(tmp_path, f"{kind}.tflite", model)
        inputs = random_inputs(model, 3, seed=seed)
        res = run(driver, path, b"".join(x.tobytes() for x in inputs))
        if fast_only:
            assert res.returncode != 0 and "unsupported-type" in res.stdout.decode(), kind
        else:
            assert res.returncode == 0 and res.stdout.decode().split() == tflm(model, inputs), kind
