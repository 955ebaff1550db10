"""Reference outputs for a model, from TFLM's own Python interpreter (the bit-exact oracle).

``LiteRtReference`` offers the same interface on LiteRT's *reference* kernels
(``OpResolverType.BUILTIN_REF``); it is a cross-check, not the oracle: LiteRT's reference
FULLY_CONNECTED rounds once where TFLM rounds twice (see anchors.md), so int8 FC outputs may
differ by 1-2 LSB.

Random inputs (``random_inputs(seed, count)``) are drawn with ``numpy.random.default_rng(seed)``,
sample by sample and input by input, so a seed gives the same inputs everywhere and a longer run
extends a shorter one. Per dtype:
  - int8 / uint8 / int16: uniform over the type's full range (with int8 and seed 1234 this is
    exactly how the shared goldens were drawn);
  - int32 / int64: uniform over [-128, 127] (int inputs are usually indices or small counts);
  - bool: 0 or 1;
  - float32: uniform over the real range the input's quantization covers when the tensor has
    one (``scale * (qmin - zp) .. scale * (qmax - zp)`` for int8), else [-1, 1].
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import tflite

from microforge.errors import ModelError

MIN_ARENA = 4 << 20  # TFLM's Python interpreter can segfault on a short arena: be generous


@dataclass(frozen=True)
class TensorSpec:
    index: int
    name: str
    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    scale: float  # 0.0 when not quantized
    zero_point: int

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize

    def random(self, rng: np.random.Generator) -> np.ndarray:
        kind = self.dtype
        if kind in (np.int8, np.uint8, np.int16):
            info = np.iinfo(kind)
            return rng.integers(info.min, info.max + 1, size=self.shape, dtype=kind)
        if kind in (np.int32, np.int64):
            return rng.integers(-128, 128, size=self.shape, dtype=kind)
        if kind == np.bool_:
            return rng.integers(0, 2, size=self.shape).astype(np.bool_)
        if kind == np.float32:
            lo, hi = -1.0, 1.0
            if self.scale > 0:
                lo, hi = self.scale * (-128 - self.zero_point), self.scale * (127 - self.zero_point)
            return rng.uniform(lo, hi, size=self.shape).astype(np.float32)
        raise ModelError(f"input {self.index} ({self.name}) has dtype {kind}: no random inputs for it")


def _spec(index: int, details: dict[str, Any], name: str = "") -> TensorSpec:
    q = details.get("quantization_parameters") or {}
    scales, zps = q.get("scales", ()), q.get("zero_points", ())
    per_tensor = len(scales) == 1
    return TensorSpec(
        index=index,
        name=str(details.get("name", name)),
        dtype=np.dtype(details["dtype"]),
        shape=tuple(int(d) for d in details["shape"]),
        scale=float(scales[0]) if per_tensor else 0.0,
        zero_point=int(zps[0]) if per_tensor else 0,
    )


def _io_counts(data: bytes, path: Path) -> tuple[int, int]:
    try:
        graph = tflite.Model.GetRootAsModel(data, 0).Subgraphs(0)
        return graph.InputsLength(), graph.OutputsLength()
    except Exception as exc:  # noqa: BLE001 - any parse failure means the same thing
        raise ModelError(f"{path} is not a readable .tflite model: {exc}") from exc


class _Base:
    """Shared logic: specs, seeded inputs, checks on the caller's arrays."""

    inputs: list[TensorSpec]
    outputs: list[TensorSpec]

    def input_specs(self) -> list[TensorSpec]:
        return list(self.inputs)

    def output_specs(self) -> list[TensorSpec]:
        return list(self.outputs)

    def random_inputs(self, seed: int, count: int) -> Iterator[list[np.ndarray]]:
        rng = np.random.default_rng(seed)
        for _ in range(count):
            yield [spec.random(rng) for spec in self.inputs]

    def _check(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        if len(inputs) != len(self.inputs):
            raise ValueError(f"model takes {len(self.inputs)} input(s), got {len(inputs)}")
        arrays = []
        for spec, value in zip(self.inputs, inputs, strict=True):
            arr = np.asarray(value)
            if arr.dtype != spec.dtype or arr.shape != spec.shape:
                raise ValueError(f"input {spec.index} wants {spec.dtype}{list(spec.shape)}, "
                                 f"got {arr.dtype}{list(arr.shape)}")
            arrays.append(np.ascontiguousarray(arr))
        return arrays

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        raise NotImplementedError


def to_bytes(arrays: Sequence[np.ndarray]) -> bytes:
    """The device's db buffer: the inputs' raw bytes back to back (little-endian)."""
    return b"".join(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes()
                    for a in arrays)


class Reference(_Base):
    """TFLM's Python interpreter (``tflite-micro``) on one .tflite file."""

    def __init__(self, model_path: str | Path, arena_size: int | None = None) -> None:
        from tflite_micro.python.tflite_micro import runtime

        self.path = Path(model_path)
        try:
            data = self.path.read_bytes()
        except OSError as exc:
            raise ModelError(f"cannot read {self.path}: {exc.strerror}") from exc
        n_in, n_out = _io_counts(data, self.path)
        arena = arena_size or max(MIN_ARENA, 10 * len(data))
        self._interp = runtime.Interpreter.from_bytes(data, arena_size=arena)
        self.inputs = [_spec(i, self._interp.get_input_details(i)) for i in range(n_in)]
        self.outputs = [_spec(i, self._interp.get_output_details(i)) for i in range(n_out)]

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        for i, arr in enumerate(self._check(inputs)):
            self._interp.set_input(arr, i)
        self._interp.invoke()
        return [np.array(self._interp.get_output(i), copy=True) for i in range(len(self.outputs))]


class LiteRtReference(_Base):
    """LiteRT (``ai-edge-litert``) with its reference kernels, same interface as ``Reference``."""

    def __init__(self, model_path: str | Path) -> None:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self.path = Path(model_path)
        if not self.path.is_file():
            raise ModelError(f"cannot read {self.path}: no such file")
        self._interp = Interpreter(
            model_path=str(self.path),
            experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
        )
        self._interp.allocate_tensors()
        self._in = self._interp.get_input_details()
        self._out = self._interp.get_output_details()
        self.inputs = [_spec(i, d) for i, d in enumerate(self._in)]
        self.outputs = [_spec(i, d) for i, d in enumerate(self._out)]

    def run(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        for d, arr in zip(self._in, self._check(inputs), strict=True):
            self._interp.set_tensor(d["index"], arr)
        self._interp.invoke()
        return [np.array(self._interp.get_tensor(d["index"]), copy=True) for d in self._out]
