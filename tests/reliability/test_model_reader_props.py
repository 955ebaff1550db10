"""Property tests of the Python model reader: any bytes give a ModelInfo or a ModelError, nothing else."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from microforge.errors import ModelError
from microforge.model import ModelInfo, check_runtime_rules, parse_model
from support.rel_common import CORPUS, EXAMPLES

SEEDS = [(EXAMPLES / "sine_int8.tflite").read_bytes(), (CORPUS / "ok-fc.tflite").read_bytes()]


def _read(data: bytes) -> ModelInfo | ModelError:
    try:
        info = parse_model(data, Path("m.tflite"))
        check_runtime_rules(info)
        for t in info.tensors:  # the properties callers use must work too
            assert t.nbytes >= 0 and t.elements >= 0
        return info
    except ModelError as err:
        assert str(err).startswith("m.tflite"), str(err)
        assert err.hint
        return err


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes(data: bytes) -> None:
    assert isinstance(_read(data), ModelInfo | ModelError)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=512))
def test_any_bytes_behind_the_identifier(data: bytes) -> None:
    assert isinstance(_read(data[:4] + b"TFL3" + data[4:]), ModelInfo | ModelError)


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(range(len(SEEDS))),
    st.lists(st.tuples(st.integers(0, 1 << 16), st.binary(min_size=1, max_size=4)), min_size=1, max_size=6),
    st.integers(0, 1 << 16),
)
def test_damaged_real_models(seed: int, patches: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(SEEDS[seed])
    for pos, chunk in patches:
        pos %= len(data)
        data[pos : pos + len(chunk)] = chunk
    data = data[: max(8, len(data) - cut % 64)] if cut % 3 == 0 else data
    assert isinstance(_read(bytes(data)), ModelInfo | ModelError)


def test_the_seeds_are_valid() -> None:
    for data in SEEDS:
        assert isinstance(_read(data), ModelInfo)


def test_every_corpus_model() -> None:
    results = [_read(p.read_bytes()) for p in sorted(CORPUS.glob("*.tflite"))]
    assert sum(isinstance(r, ModelError) for r in results) >= 20
