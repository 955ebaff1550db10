"""Read a .tflite flatbuffer into plain dataclasses (the one model reader of the package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from .errors import ModelError

# tflite::TensorType -> (name, bytes per element)
DTYPES: dict[int, tuple[str, int]] = {
    0: ("float32", 4),
    1: ("float16", 2),
    2: ("int32", 4),
    3: ("uint8", 1),
    4: ("int64", 8),
    5: ("string", 0),
    6: ("bool", 1),
    7: ("int16", 2),
    9: ("int8", 1),
    10: ("float64", 8),
}

MAX_MODEL_BYTES = 1 << 31  # flatbuffers cannot address more


@dataclass(frozen=True)
class Quantization:
    scales: tuple[float, ...] = ()
    zero_points: tuple[int, ...] = ()
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    def as_dict(self) -> dict[str, object]:
        if not self.scales:
            return {}
        if self.per_channel:
            return {"per_channel": True, "axis": self.axis, "channels": len(self.scales)}
        return {"scale": self.scales[0], "zero_point": self.zero_points[0]}


@dataclass(frozen=True)
class TensorInfo:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    buffer: int
    constant: bool
    quant: Quantization

    @property
    def elements(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.elements * dtype_size(self.dtype)


@dataclass(frozen=True)
class OperatorInfo:
    index: int
    op: str  # builtin name, e.g. FULLY_CONNECTED, or CUSTOM:<name>
    builtin_code: int
    version: int
    inputs: tuple[int, ...]  # -1 = optional input absent
    outputs: tuple[int, ...]


@dataclass
class ModelInfo:
    path: Path
    data: bytes
    version: int
    description: str
    tensors: list[TensorInfo]
    operators: list[OperatorInfo]
    inputs: list[int]
    outputs: list[int]
    subgraphs: int = 1
    extras: dict[str, object] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    def input_tensors(self) -> list[TensorInfo]:
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self) -> list[TensorInfo]:
        return [self.tensors[i] for i in self.outputs]


def dtype_size(name: str) -> int:
    for dname, size in DTYPES.values():
        if dname == name:
            return size
    return 0


def read_model(path: str | Path) -> ModelInfo:
    """Read and validate a .tflite file; any defect raises ModelError naming it."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: {path}", "pass the path of a .tflite file with --model")
    data = path.read_bytes()
    return parse_model(data, path)


def parse_model(data: bytes, path: Path = Path("model.tflite")) -> ModelInfo:
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ModelError(
            f"{path} is not a TensorFlow Lite model (no 'TFL3' identifier)",
            "convert the model with the TFLite converter and pass the .tflite file",
        )
    if len(data) >= MAX_MODEL_BYTES:
        raise ModelError(f"{path} is larger than 2 GiB", "a microcontroller model must be far smaller")
    try:
        info = _parse(data, path)
    except ModelError:
        raise
    except Exception as exc:  # the flatbuffers reader raises many kinds on corrupt input
        raise ModelError(
            f"{path} is corrupt: its flatbuffer cannot be read ({type(exc).__name__})",
            "re-export the model; the file may be truncated or damaged",
        ) from exc
    _validate(info)
    return info


def _parse(data: bytes, path: Path) -> ModelInfo:
    model = tflite.Model.GetRootAsModel(data, 0)
    if model.SubgraphsLength() < 1:
        raise ModelError(f"{path} has no subgraph", "re-export the model")
    buffers = [model.Buffers(i) for i in range(model.BuffersLength())]
    for i, buf in enumerate(buffers):
        if buf.Offset() > 1 or buf.Size() > 0:
            raise ModelError(
                f"{path}: buffer {i} is stored outside the flatbuffer (models over 2 GB)",
                "export the model without external buffers",
            )
    sub = model.Subgraphs(0)
    tensors = [_tensor(sub.Tensors(i), i, buffers) for i in range(sub.TensorsLength())]
    codes = [model.OperatorCodes(i) for i in range(model.OperatorCodesLength())]
    ops: list[OperatorInfo] = []
    for i in range(sub.OperatorsLength()):
        op = sub.Operators(i)
        idx = op.OpcodeIndex()
        if idx >= len(codes):
            raise ModelError(f"{path}: operator {i} refers to operator code {idx}, which does not exist")
        code = codes[idx]
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        name = BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")
        if name == "CUSTOM":
            custom = code.CustomCode()
            name = "CUSTOM:" + (custom.decode(errors="replace") if custom else "?")
        ops.append(
            OperatorInfo(
                index=i,
                op=name,
                builtin_code=builtin,
                version=code.Version(),
                inputs=tuple(int(v) for v in (op.InputsAsNumpy() if op.InputsLength() else [])),
                outputs=tuple(int(v) for v in (op.OutputsAsNumpy() if op.OutputsLength() else [])),
            )
        )
    desc = model.Description()
    return ModelInfo(
        path=path,
        data=data,
        version=model.Version(),
        description=desc.decode(errors="replace") if desc else "",
        tensors=tensors,
        operators=ops,
        inputs=[int(v) for v in sub.InputsAsNumpy()] if sub.InputsLength() else [],
        outputs=[int(v) for v in sub.OutputsAsNumpy()] if sub.OutputsLength() else [],
        subgraphs=model.SubgraphsLength(),
    )


def _tensor(t: tflite.Tensor, index: int, buffers: list[tflite.Buffer]) -> TensorInfo:
    dtype = DTYPES.get(t.Type(), (f"type{t.Type()}", 0))[0]
    shape = tuple(int(v) for v in t.ShapeAsNumpy()) if t.ShapeLength() else ()
    buf = t.Buffer()
    constant = 0 < buf < len(buffers) and buffers[buf].DataLength() > 0
    if buf < 0 or buf >= max(len(buffers), 1):
        raise ModelError(f"tensor {index} refers to buffer {buf}; the model has {len(buffers)}")
    q = t.Quantization()
    quant = Quantization()
    if q is not None and q.ScaleLength():
        scales = tuple(float(v) for v in q.ScaleAsNumpy())
        zps = tuple(int(v) for v in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else ()
        quant = Quantization(scales, zps, q.QuantizedDimension())
    name = t.Name()
    info = TensorInfo(index, name.decode(errors="replace") if name else "", shape, dtype, buf, constant, quant)
    if constant and buffers[buf].DataLength() != info.nbytes:
        raise ModelError(
            f"tensor {index} ({info.name}) holds {buffers[buf].DataLength()} bytes "
            f"but its shape {list(shape)} of {dtype} needs {info.nbytes}"
        )
    return info


def _validate(m: ModelInfo) -> None:
    where = m.path
    if m.version != 3:
        raise ModelError(f"{where}: schema version {m.version}, expected 3", "re-export with a current converter")
    n = len(m.tensors)
    for t in m.tensors:
        if any(d < 0 for d in t.shape):
            raise ModelError(
                f"{where}: tensor {t.index} ({t.name}) has a dynamic dimension {list(t.shape)}",
                "convert with a fixed batch size of 1",
            )
        if t.quant.scales and len(t.quant.zero_points) not in (len(t.quant.scales),):
            raise ModelError(f"{where}: tensor {t.index} has {len(t.quant.scales)} scales "
                             f"but {len(t.quant.zero_points)} zero points")
    for op in m.operators:
        for idx in (*op.inputs, *op.outputs):
            if idx < -1 or idx >= n:
                raise ModelError(f"{where}: operator {op.index} ({op.op}) refers to tensor {idx}; "
                                 f"the model has {n}")
        if any(i < 0 for i in op.outputs):
            raise ModelError(f"{where}: operator {op.index} ({op.op}) has a missing output")
    for idx in (*m.inputs, *m.outputs):
        if idx < 0 or idx >= n:
            raise ModelError(f"{where}: model input/output refers to tensor {idx}; the model has {n}")
