"""The tensor types each kernel accepts (microforge.model.ops.TYPE_RULES): `microforge new` refuses, per
operator, what the runtime's prepare() would reject at init (hybrid, int16, int4, ...), writes
nothing, and `microforge inspect` lists the same problems."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from microforge.cli import main as cli_main
from microforge.errors import UnsupportedOpsError
from microforge.model import parse_model, read_model
from microforge.model.ops import KERNELS, TYPE_RULES, check_supported, type_problems
from support import EXAMPLES, ROOT, shared_model
from support import tflite_build as tb
from support.build_conv import CONV_2D, VALID, conv_options
from support.tflite_build import FLOAT32, FULLY_CONNECTED, INT8, INT32, Op, T

INT16, INT64, INT4 = 7, 4, 17
SOFTMAX, RELU = 25, 19
HYBRID_FIX = ("quantize the model fully to int8 (TFLiteConverter with a representative dataset and "
              "inference_input_type/inference_output_type int8) or keep it all float32")


@pytest.fixture(autouse=True)
def _more_dtypes(monkeypatch) -> None:
    """tflite_build writes constant data of float32/int32/int8 only; these tests need more."""
    for code, np_type in ((INT16, np.int16), (INT64, np.int64), (INT4, np.uint8)):
        monkeypatch.setitem(tb._NP, code, np_type)


def _weights(shape: list[int]) -> np.ndarray:
    return np.random.default_rng(0).integers(-127, 128, shape).astype(np.int8)


def hybrid_fc() -> bytes:
    """float32 input, int8 weights (per-tensor), float32 bias: dynamic-range quantization."""
    tensors = [
        T([1, 4], FLOAT32),
        T([3, 4], INT8, _weights([3, 4]), scale=[0.01], zero_point=[0]),
        T([3], FLOAT32, np.zeros(3, np.float32)),
        T([1, 3], FLOAT32),
    ]
    return tb.build(tensors, [Op(FULLY_CONNECTED, [0, 1, 2], [3], version=3, fc=(0, False))], [0], [3])


def hybrid_conv() -> bytes:
    """A float RELU (fine), then CONV_2D with float32 input and per-channel int8 weights."""
    tensors = [
        T([1, 4, 4, 2], FLOAT32),
        T([1, 4, 4, 2], FLOAT32),
        T([3, 2, 2, 2], INT8, _weights([3, 2, 2, 2]), scale=[0.01, 0.02, 0.03], zero_point=[0, 0, 0], qdim=0),
        T([3], FLOAT32, np.zeros(3, np.float32)),
        T([1, 3, 3, 3], FLOAT32),
    ]
    ops = [Op(RELU, [0], [1]),
           Op(CONV_2D, [1, 2, 3], [4], version=2, options=conv_options(VALID, (1, 1), 0, (1, 1)))]
    return tb.build(tensors, ops, [0], [4])


def int16_fc() -> bytes:
    """The 16x8 mode: int16 activations, int8 weights, int64 bias."""
    tensors = [
        T([1, 4], INT16, scale=[0.001], zero_point=[0]),
        T([3, 4], INT8, _weights([3, 4]), scale=[0.01], zero_point=[0]),
        T([3], INT64, np.zeros(3, np.int64), scale=[0.00001], zero_point=[0]),
        T([1, 3], INT16, scale=[0.002], zero_point=[0]),
    ]
    return tb.build(tensors, [Op(FULLY_CONNECTED, [0, 1, 2], [3], version=7, fc=(0, False))], [0], [3])


def int8_softmax_int16_out() -> bytes:
    tensors = [T([1, 5], INT8, scale=[0.1], zero_point=[0]), T([1, 5], INT16, scale=[1 / 32768], zero_point=[0])]
    return tb.build(tensors, [Op(SOFTMAX, [0], [1], version=2)], [0], [1])


def int4_fc() -> bytes:
    """float32 input with int4 weights (packed two to a byte)."""
    tensors = [
        T([1, 4], FLOAT32),
        T([3, 4], INT4, np.zeros(6, np.uint8), scale=[0.1], zero_point=[0]),
        T([1, 3], FLOAT32),
    ]
    return tb.build(tensors, [Op(FULLY_CONNECTED, [0, 1, -1], [2], version=1, fc=(0, False))], [0], [2])


def int8_fc(w_scales: int = 1, w_axis: int = 0, w_zp: int = 0, in_quant: bool = True) -> bytes:
    n = 4 if w_axis == 1 else 3
    tensors = [
        T([1, 4], INT8, scale=[0.1] if in_quant else None, zero_point=[0] if in_quant else None),
        T([3, 4], INT8, _weights([3, 4]), scale=[0.01] * (n if w_scales > 1 else 1),
          zero_point=[w_zp] * (n if w_scales > 1 else 1), qdim=w_axis),
        T([3], INT32, np.zeros(3, np.int32), scale=[0.001], zero_point=[0]),
        T([1, 3], INT8, scale=[0.2], zero_point=[1]),
    ]
    return tb.build(tensors, [Op(FULLY_CONNECTED, [0, 1, 2], [3], version=4, fc=(0, False))], [0], [3])


def _new(tmp_path: Path, data: bytes, capsys) -> tuple[int, str]:
    model = tmp_path / "m.tflite"
    model.write_bytes(data)
    code = cli_main(["new", "--model", str(model), "--board", "host", "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.tflite"]  # nothing written
    return code, err


def test_table_names_every_kernel() -> None:
    assert set(TYPE_RULES) == set(KERNELS)


def test_hybrid_fully_connected_refused(tmp_path: Path, capsys) -> None:
    code, err = _new(tmp_path, hybrid_fc(), capsys)
    assert code == UnsupportedOpsError.exit_code != 0
    assert err.split("\nfix: ")[0] == (
        "error: m.tflite has 1 operator(s) whose tensor types the microforge runtime rejects:\n"
        "  operator 0 FULLY_CONNECTED: int8 weights with float32 input (hybrid) is not supported")
    assert HYBRID_FIX in err.split("\nfix: ")[1]


def test_hybrid_conv_refused_naming_only_it(tmp_path: Path, capsys) -> None:
    code, err = _new(tmp_path, hybrid_conv(), capsys)
    assert code == 4
    assert err.split("\nfix: ")[0] == (
        "error: m.tflite has 1 operator(s) whose tensor types the microforge runtime rejects:\n"
        "  operator 1 CONV_2D: int8 weights with float32 input (hybrid) is not supported")
    assert HYBRID_FIX in err


def test_int16_refused(tmp_path: Path, capsys) -> None:
    code, err = _new(tmp_path, int16_fc(), capsys)
    assert code == 4
    head, fix = err.split("\nfix: ")
    assert head.endswith("\n  operator 0 FULLY_CONNECTED: int16 input and output, int8 weights, int64 bias "
                         "is not supported")
    assert "int16 activations" in fix and HYBRID_FIX in fix
    code, err = _new(tmp_path, int8_softmax_int16_out(), capsys)
    assert code == 4 and "  operator 0 SOFTMAX: int8 input, int16 output is not supported" in err


def test_int4_weights_refused(tmp_path: Path, capsys) -> None:
    code, err = _new(tmp_path, int4_fc(), capsys)
    assert code == 4
    assert "  operator 0 FULLY_CONNECTED: int4 weights with float32 input (hybrid) is not supported" in err


@pytest.mark.parametrize(("kwargs", "problem"), [
    ({}, None),
    ({"w_scales": 3}, None),
    ({"w_scales": 4, "w_axis": 1},
     "int8 weights quantized per-channel along axis 1 (the kernel needs axis 0)"),
    ({"w_zp": 2}, "int8 weights with non-zero zero points"),
    ({"in_quant": False}, "int8 input without quantization parameters"),
])
def test_int8_quantization_rules(kwargs: dict, problem: str | None) -> None:
    got = [p.problem for p in type_problems(parse_model(int8_fc(**kwargs)))]
    assert got == ([problem] if problem else [])


def test_missing_ops_and_type_problems_listed_together(tmp_path: Path, capsys) -> None:
    tensors = [T([1, 5], INT8, scale=[0.1], zero_point=[0]), T([1, 5], INT8, scale=[0.1], zero_point=[0]),
               T([1, 5], INT16, scale=[1 / 32768], zero_point=[0])]
    data = tb.build(tensors, [Op(8, [0], [1]), Op(SOFTMAX, [1], [2], version=2)], [0], [2])  # FLOOR
    code, err = _new(tmp_path, data, capsys)
    assert code == 4
    assert "  operator 0: FLOOR v1\nand it has 1 operator(s) whose tensor types the microforge runtime " \
           "rejects:\n  operator 1 SOFTMAX: int8 input, int16 output is not supported\nfix: " in err


def test_bundled_and_coverage_models_pass() -> None:
    models = [*EXAMPLES.glob("*.tflite"), *(ROOT / "tests" / "models" / "coverage").glob("*.tflite")]
    assert len(models) >= 5
    for path in models:
        model = read_model(path)
        assert type_problems(model) == [], path.name
        check_supported(model)


def test_inspect_lists_the_same_problems(tmp_path: Path, capsys) -> None:
    model = tmp_path / "m.tflite"
    model.write_bytes(hybrid_conv())
    assert cli_main(["inspect", str(model), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["unsupported"] == [{"index": 1, "op": "CONV_2D", "version": 2,
                                 "types": "int8 weights with float32 input (hybrid)"}]
    assert cli_main(["inspect", str(model)]) == 0
    out = capsys.readouterr().out
    assert "unsupported #1 CONV_2D: int8 weights with float32 input (hybrid) is not supported" in out
    assert "all operators supported" not in out
    # no fit check for a board, and the reason names the tensor types too (nothing is built)
    assert cli_main(["inspect", str(model), "--board", "nano33ble"]) == 0
    assert "rejects their tensor types" in capsys.readouterr().err


@pytest.mark.shared_models
def test_kws_float32_refused_naming_its_hybrid_operators(tmp_path: Path, capsys) -> None:
    path = shared_model("mlperf_tiny/kws/kws_ref_model_float32.tflite")
    out = tmp_path / "kws"
    code = cli_main(["new", "--model", str(path), "--board", "qemu-m4", "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 4 and not out.exists()
    lines = [ln.strip() for ln in err.split("\nfix: ")[0].splitlines()[1:]]
    assert lines == [f"operator {i} CONV_2D: int8 weights with float32 input (hybrid) is not supported"
                     for i in (0, 2, 4, 6, 8)]
    assert HYBRID_FIX in err
