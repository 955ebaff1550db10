"""The committed coverage models (tests/models/coverage) against their manifest: the ops each model
really has (microforge.model.read_model), the options it really uses (read from the flatbuffer),
and that together they cover every kernel in microforge.model.ops.KERNELS, int8 and float, with every
option the kernels support."""

from __future__ import annotations

import json

import pytest
from microforge.model import read_model
from microforge.model.ops import KERNELS
from support import ROOT
from support.coverage_models import describe

COVERAGE = ROOT / "tests" / "models" / "coverage"

MANIFEST = json.loads((COVERAGE / "manifest.json").read_text())
ACTS = ("NONE", "RELU", "RELU_N1_TO_1", "RELU6")
REQUIRED = {
    "FULLY_CONNECTED": [*(f"FusedActivationFunction={a}" for a in ACTS), "KeepNumDims=1", "KeepNumDims=0",
                        "weights=per_channel", "weights=per_tensor", "bias=yes", "bias=no"],
    "CONV_2D": [*(f"FusedActivationFunction={a}" for a in ACTS), "Padding=SAME", "Padding=VALID", "StrideH=2",
                "StrideW=2", "DilationHFactor=2", "DilationWFactor=1", "weights=per_channel", "weights=per_tensor",
                "bias=yes", "bias=no"],
    "DEPTHWISE_CONV_2D": [*(f"FusedActivationFunction={a}" for a in ACTS), "Padding=SAME", "Padding=VALID",
                          "StrideH=2", "DilationHFactor=2", "DilationWFactor=2", "DepthMultiplier=1",
                          "DepthMultiplier=2", "weights=per_channel", "weights=per_tensor"],
    "AVERAGE_POOL_2D": [*(f"FusedActivationFunction={a}" for a in ACTS[:2]), "Padding=SAME", "Padding=VALID",
                        "StrideH=2", "FilterWidth=3"],
    "MAX_POOL_2D": [*(f"FusedActivationFunction={a}" for a in ACTS[2:]), "Padding=SAME", "Padding=VALID",
                    "StrideW=2", "FilterHeight=3"],
    "ADD": [*(f"FusedActivationFunction={a}" for a in ACTS), "broadcast=yes", "broadcast=no", "constant_operand"],
    "SUB": [*(f"FusedActivationFunction={a}" for a in ACTS), "broadcast=yes", "broadcast=no", "constant_operand"],
    "MUL": [*(f"FusedActivationFunction={a}" for a in ACTS), "broadcast=yes", "broadcast=no", "constant_operand"],
    "SOFTMAX": ["Beta=1", "Beta=0.7"],
    "MEAN": ["KeepDims=1", "KeepDims=0", "axes=[1, 2]", "axes=[-1]", "requantize=yes"],
    "RESHAPE": ["shape_tensor=yes", "shape_tensor=no"],
    "SQUEEZE": ["squeeze_dims=[1, 2]", "squeeze_dims=[]"],
    "EXPAND_DIMS": ["axis=[-1]", "axis=[0]"],
    "CONCATENATION": ["Axis=-1", "Axis=1", "inputs=3", "constant_operand"],
    "LEAKY_RELU": ["Alpha=0.2", "requantize=yes"],
    "RELU": ["requantize=yes"],
    "STRIDED_SLICE": ["EndMask=2", "ShrinkAxisMask=1", "strides=[1, -2, 2, -3]"],
    "TRANSPOSE": ["perm=[0, 3, 1, 2]"],
    "QUANTIZE": ["dtype=float32->int8", "dtype=int8->int8", "requantize=yes"],
    "DEQUANTIZE": ["dtype=int8->float32"],
}
# Standalone int8 RELU6 follows LiteRT, not TFLM (runtime/README.md): float only here.
NOT_BOTH_TYPES = {"QUANTIZE", "DEQUANTIZE", "RELU6"}


def _models() -> list[str]:
    return sorted(p.name for p in COVERAGE.glob("*.tflite"))


def test_manifest_lists_exactly_the_committed_models() -> None:
    assert _models() and sorted(MANIFEST) == _models()


@pytest.mark.parametrize("name", _models())
def test_manifest_ops_are_the_models_ops(name: str) -> None:
    ops = {op.op for op in read_model(COVERAGE / name).operators}
    assert set(MANIFEST[name]) == ops


@pytest.mark.parametrize("name", _models())
def test_manifest_options_are_the_models_options(name: str) -> None:
    assert MANIFEST[name] == describe((COVERAGE / name).read_bytes())


@pytest.mark.parametrize("name", _models())
def test_models_are_small(name: str) -> None:
    assert (COVERAGE / name).stat().st_size < 16 * 1024


def _union() -> dict[str, set[str]]:
    union: dict[str, set[str]] = {}
    for opts in MANIFEST.values():
        for op, values in opts.items():
            union.setdefault(op, set()).update(values)
    return union


def test_every_kernel_is_covered_in_int8_and_float() -> None:
    union = _union()
    assert set(KERNELS) <= set(union), f"not covered: {sorted(set(KERNELS) - set(union))}"
    for op in set(KERNELS) - NOT_BOTH_TYPES:
        dtypes = {v.split("->")[0] for v in union[op] if v.startswith("dtype=")}
        assert {"dtype=int8", "dtype=float32"} <= dtypes, f"{op}: {sorted(dtypes)}"


@pytest.mark.parametrize("op", sorted(REQUIRED))
def test_every_option_is_covered(op: str) -> None:
    missing = set(REQUIRED[op]) - _union().get(op, set())
    assert not missing, f"{op}: no coverage model uses {sorted(missing)}"
