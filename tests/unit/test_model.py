"""The Python model reader: fields right on real models, and every corruption a ModelError."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from microforge.errors import ModelError
from microforge.model import parse_model, read_model
from support import EXAMPLES, shared_model
from tflite_micro.python.tflite_micro import runtime as tflm


def _tflm_io(path: Path) -> tuple[dict, dict]:
    it = tflm.Interpreter.from_file(str(path))
    return it.get_input_details(0), it.get_output_details(0)


@pytest.mark.parametrize("name", ["sine_float", "sine_int8", "sine_int8_float_io"])
def test_io_matches_tflm(name: str) -> None:
    path = EXAMPLES / f"{name}.tflite"
    m = read_model(path)
    tin, tout = _tflm_io(path)
    for ours, theirs in ((m.input_tensors()[0], tin), (m.output_tensors()[0], tout)):
        assert list(ours.shape) == list(theirs["shape"])
        assert ours.dtype == np.dtype(theirs["dtype"]).name
        assert list(ours.quant.scales) == pytest.approx(list(theirs["quantization_parameters"]["scales"]))
        assert list(ours.quant.zero_points) == list(theirs["quantization_parameters"]["zero_points"])


def test_per_channel_weights_are_read(sine_int8: Path) -> None:
    m = read_model(sine_int8)
    weights = [m.tensors[op.inputs[1]] for op in m.operators]
    assert [w.quant.per_channel for w in weights] == [True, False, False]  # the last has 1 channel
    assert len(weights[0].quant.scales) == weights[0].shape[0] == 16
    assert weights[0].quant.axis == 0
    assert all(w.constant and w.dtype == "int8" for w in weights)


@pytest.mark.shared_models
def test_zoo_model_person_detect_reads() -> None:
    m = read_model(shared_model("tflm/person_detection/person_detect.tflite"))
    assert m.input_tensors()[0].shape == (1, 96, 96, 1)
    assert sum(op.op == "CONV_2D" for op in m.operators) == 14


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        read_model(tmp_path / "nope.tflite")


def test_not_a_tflite_file() -> None:
    with pytest.raises(ModelError, match="TFL3"):
        parse_model(b"\x00" * 64)


def test_corruptions_are_model_errors(sine_int8: Path) -> None:
    """Truncations and byte flips either parse or raise ModelError, never anything else."""
    data = sine_int8.read_bytes()
    rng = random.Random(5)
    cases = [data[:n] for n in range(0, len(data), 37)]
    for _ in range(300):
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(8, len(b))] = rng.randrange(256)
        cases.append(bytes(b))
    rejected = 0
    for case in cases:
        try:
            parse_model(case)
        except ModelError:
            rejected += 1
    assert rejected >= len(data) // 37  # every truncation at least
