"""Reference oracles against the shared hello_world models and goldens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from microforge.device.reference import LiteRtReference, Reference, to_bytes
from microforge.errors import ModelError

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
HELLO = SHARED / "models" / "tflm" / "hello_world"
GOLDEN = SHARED / "models" / "golden" / "hello_world_int8.npz"

pytestmark = pytest.mark.skipif(not GOLDEN.is_file(), reason=f"shared models absent ({SHARED})")


@pytest.fixture(scope="module")
def int8_ref() -> Reference:
    return Reference(HELLO / "hello_world_int8.tflite")


def test_specs(int8_ref: Reference) -> None:
    (spec,) = int8_ref.input_specs()
    assert (spec.dtype, spec.shape, spec.zero_point, spec.nbytes) == (np.int8, (1, 1), -128, 1)
    assert spec.scale == pytest.approx(0.0244801)
    (out,) = int8_ref.output_specs()
    assert (out.dtype, out.shape, out.zero_point) == (np.int8, (1, 1), 5)


def test_matches_goldens_and_seeded_inputs_reproduce_them(int8_ref: Reference) -> None:
    golden = np.load(GOLDEN)
    drawn = list(int8_ref.random_inputs(seed=1234, count=3))
    for k, inputs in enumerate(drawn):
        assert np.array_equal(inputs[0], golden[f"in{k}_0"])
        (out,) = int8_ref.run(inputs)
        assert out.dtype == np.int8 and np.array_equal(out, golden[f"out{k}_0"])


def test_random_inputs_are_deterministic_and_cover_the_range(int8_ref: Reference) -> None:
    a = np.concatenate([x[0].ravel() for x in int8_ref.random_inputs(7, 2000)])
    b = np.concatenate([x[0].ravel() for x in int8_ref.random_inputs(7, 2000)])
    assert np.array_equal(a, b)
    assert a.min() == -128 and a.max() == 127
    assert not np.array_equal(a[:50], next(iter([np.concatenate(
        [x[0].ravel() for x in int8_ref.random_inputs(8, 50)])])))


def test_litert_reference_agrees_on_hello_world(int8_ref: Reference) -> None:
    lite = LiteRtReference(HELLO / "hello_world_int8.tflite")
    assert lite.input_specs() == int8_ref.input_specs() or \
        [s.shape for s in lite.input_specs()] == [s.shape for s in int8_ref.input_specs()]
    for inputs in int8_ref.random_inputs(1, 20):
        # hello_world is FC-only: LiteRT's single rounding may differ by 1-2 LSB from TFLM.
        diff = np.abs(lite.run(inputs)[0].astype(int) - int8_ref.run(inputs)[0].astype(int))
        assert diff.max() <= 2


def test_float_model_inputs_and_run() -> None:
    ref = Reference(HELLO / "hello_world_float.tflite")
    (spec,) = ref.input_specs()
    assert spec.dtype == np.float32 and spec.scale == 0.0
    inputs = list(ref.random_inputs(3, 50))
    values = np.array([x[0].item() for x in inputs])
    assert values.min() >= -1 and values.max() <= 1 and values.std() > 0.3
    lite = LiteRtReference(HELLO / "hello_world_float.tflite")
    for x in inputs[:5]:
        np.testing.assert_allclose(ref.run(x)[0], lite.run(x)[0], rtol=1e-5, atol=1e-6)


def test_run_checks_inputs(int8_ref: Reference) -> None:
    with pytest.raises(ValueError, match="1 input"):
        int8_ref.run([])
    with pytest.raises(ValueError, match="int8"):
        int8_ref.run([np.zeros((1, 1), np.float32)])


def test_to_bytes_concatenates_raw_bytes() -> None:
    data = to_bytes([np.array([[1, -1]], np.int8), np.array([1.0], np.float32)])
    assert data == b"\x01\xff" + np.float32(1.0).tobytes()


def test_bad_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError):
        Reference(tmp_path / "missing.tflite")
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 16)
    with pytest.raises(ModelError):
        Reference(junk)
