"""Read a .tflite flatbuffer into plain dataclasses (the one model reader of the package)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TypeVar

import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from microforge.errors import ModelError

_Options = TypeVar("_Options")

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
    8: ("complex64", 8),
    9: ("int8", 1),
    10: ("float64", 8),
    11: ("complex128", 16),
    12: ("uint64", 8),
    13: ("resource", 0),
    14: ("variant", 0),
    15: ("uint32", 4),
    16: ("uint16", 2),
    17: ("int4", 0),  # packed two to a byte: no whole bytes per element (ops.py refuses it)
    18: ("bfloat16", 2),
}

MAX_MODEL_BYTES = 1 << 31  # flatbuffers cannot address more
MAX_RANK = 6  # the runtime's kMaxRank
_REEXPORT = "the file is damaged or was not written by the TFLite converter: re-export the model"


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
    variable: bool = False  # state (e.g. LSTM): read before any operator writes it

    @property
    def elements(self) -> int:
        return math.prod(self.shape)  # exact: hostile shapes must not wrap around

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

    @cached_property
    def root(self) -> tflite.Model:
        """The flatbuffer's root table, opened once: options and constants are read through it
        (builtin_options, conv_dilation), never by re-opening ``data`` elsewhere."""
        return tflite.Model.GetRootAsModel(self.data, 0)

    def input_tensors(self) -> list[TensorInfo]:
        return [self.tensors[i] for i in self.inputs]

    def output_tensors(self) -> list[TensorInfo]:
        return [self.tensors[i] for i in self.outputs]


def dtype_size(name: str) -> int:
    for dname, size in DTYPES.values():
        if dname == name:
            return size
    return 0


def builtin_options(root: tflite.Model, op: OperatorInfo, cls: type[_Options]) -> _Options | None:
    """The operator's builtin options table read as ``cls`` (e.g. tflite.Conv2DOptions), or None
    when the operator has none (its fields then take the schema's defaults)."""
    table = root.Subgraphs(0).Operators(op.index).BuiltinOptions()
    if table is None:
        return None
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


def conv_dilation(root: tflite.Model, op: OperatorInfo) -> tuple[int, int]:
    """(height, width) dilation of a CONV_2D or DEPTHWISE_CONV_2D operator."""
    opts = builtin_options(root, op, tflite.Conv2DOptions if op.op == "CONV_2D" else tflite.DepthwiseConv2DOptions)
    return (opts.DilationHFactor() or 1, opts.DilationWFactor() or 1) if opts is not None else (1, 1)


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
    except ModelError as err:
        if str(path) in str(err):
            raise
        raise type(err)(f"{path}: {err}", err.hint) from err  # every message names the file
    except Exception as exc:  # the flatbuffers reader raises many kinds on corrupt input
        raise ModelError(
            f"{path} is corrupt: its flatbuffer cannot be read "
            f"({'a table lies outside the file' if isinstance(exc, _Corrupt) else type(exc).__name__})",
            "re-export the model; the file may be truncated or damaged",
        ) from exc
    _validate(info)
    return info


class _Corrupt(Exception):
    """A table lies (partly) outside the file; parse_model turns it into a ModelError."""


def _table(obj: object) -> object:
    """Checks a flatbuffer table as the runtime's FbTable::at does; returns obj.

    The flatbuffers package reads a field only when it is accessed, and never checks the object
    size a vtable declares; the runtime rejects such tables, so the generator must too.
    """
    tab = obj._tab  # type: ignore[attr-defined]
    data, pos = tab.Bytes, tab.Pos
    size = len(data)
    if not 0 <= pos <= size - 4:
        raise _Corrupt
    vt = pos - struct.unpack_from("<i", data, pos)[0]
    if not 0 <= vt <= size - 4:
        raise _Corrupt
    vsize, osize = struct.unpack_from("<HH", data, vt)
    if vsize < 4 or vsize % 2 or vt + vsize > size or osize < 4 or pos + osize > size:
        raise _Corrupt
    for slot in range(vt + 4, vt + vsize, 2):
        field = struct.unpack_from("<H", data, slot)[0]
        if field and not 4 <= field < osize:
            raise _Corrupt
    return obj


def _parse(data: bytes, path: Path) -> ModelInfo:
    model = _table(tflite.Model.GetRootAsModel(data, 0))
    if model.SubgraphsLength() < 1:
        raise ModelError(f"{path} has no subgraph", "re-export the model")
    buffers = [_table(model.Buffers(i)) for i in range(model.BuffersLength())]
    for i, buf in enumerate(buffers):
        if buf.Offset() > 1 or buf.Size() > 0:
            raise ModelError(
                f"{path}: buffer {i} is stored outside the flatbuffer (models over 2 GB)",
                "export the model without external buffers",
            )
    sub = _table(model.Subgraphs(0))
    tensors = [_tensor(sub.Tensors(i), i, buffers) for i in range(sub.TensorsLength())]
    codes = [_table(model.OperatorCodes(i)) for i in range(model.OperatorCodesLength())]
    ops: list[OperatorInfo] = []
    for i in range(sub.OperatorsLength()):
        op = _table(sub.Operators(i))
        idx = op.OpcodeIndex()
        if idx >= len(codes):
            raise ModelError(f"{path}: operator {i} refers to operator code {idx}, which does not exist",
                             _REEXPORT)
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
        raise ModelError(f"tensor {index} refers to buffer {buf}; the model has {len(buffers)}", _REEXPORT)
    _table(t)
    q = t.Quantization()
    if q is not None:
        _table(q)
    quant = Quantization()
    if q is not None and q.ScaleLength():
        scales = tuple(float(v) for v in q.ScaleAsNumpy())
        zps = tuple(int(v) for v in q.ZeroPointAsNumpy()) if q.ZeroPointLength() else ()
        quant = Quantization(scales, zps, q.QuantizedDimension())
    name = t.Name()
    info = TensorInfo(index, name.decode(errors="replace") if name else "", shape, dtype, buf, constant, quant,
                      bool(t.IsVariable()))
    # A type without a byte size here (int4, string, ...) is left to ops.py, which names it.
    if constant and dtype_size(dtype) and buffers[buf].DataLength() != info.nbytes:
        raise ModelError(
            f"tensor {index} ({info.name}) holds {buffers[buf].DataLength()} bytes "
            f"but its shape {list(shape)} of {dtype} needs {info.nbytes}",
            _REEXPORT,
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
                             f"but {len(t.quant.zero_points)} zero points", _REEXPORT)
        if t.quant.per_channel and not (
            (0 <= t.quant.axis < len(t.shape) and t.shape[t.quant.axis] == len(t.quant.scales))
            or t.shape == (len(t.quant.scales),)  # a 1-D bias whose axis the converter left as the weights'
        ):
            raise ModelError(f"{where}: tensor {t.index} has {len(t.quant.scales)} per-channel scales on axis "
                             f"{t.quant.axis} of shape {list(t.shape)}", _REEXPORT)
    for op in m.operators:
        for idx in (*op.inputs, *op.outputs):
            if idx < -1 or idx >= n:
                raise ModelError(f"{where}: operator {op.index} ({op.op}) refers to tensor {idx}; "
                                 f"the model has {n}", _REEXPORT)
        if any(i < 0 for i in op.outputs):
            raise ModelError(f"{where}: operator {op.index} ({op.op}) has a missing output", _REEXPORT)
    for idx in (*m.inputs, *m.outputs):
        if idx < 0 or idx >= n:
            raise ModelError(f"{where}: model input/output refers to tensor {idx}; the model has {n}", _REEXPORT)


def check_runtime_rules(m: ModelInfo) -> None:
    """What the runtime's init() also rejects: rank > 6, tensors of 2 GiB or more, and a dataflow
    out of order (read before written, written twice, an output never written).

    Not part of read_model: `inspect` describes any readable model, e.g. one whose custom
    operator reads a scratch tensor; `new` calls this after the supported-ops check.
    """
    for t in m.tensors:
        if len(t.shape) > MAX_RANK:
            raise ModelError(f"{m.path}: tensor {t.index} ({t.name}) has rank {len(t.shape)}; the runtime "
                             f"supports up to {MAX_RANK}", "reshape the model to at most 6 dimensions")
        if t.nbytes >= MAX_MODEL_BYTES:
            raise ModelError(f"{m.path}: tensor {t.index} ({t.name}) of shape {list(t.shape)} needs "
                             f"{t.nbytes:,} bytes", _REEXPORT)
    written = {*m.inputs, *(t.index for t in m.tensors if t.constant or t.variable)}
    for op in m.operators:
        for idx in op.inputs:
            if idx >= 0 and idx not in written:
                raise ModelError(f"{m.path}: operator {op.index} ({op.op}) reads tensor {idx} before any "
                                 "operator writes it (operators out of order, or a cycle)", _REEXPORT)
        for idx in op.outputs:
            if idx in written:
                what = "a constant" if m.tensors[idx].constant else "a tensor already written"
                raise ModelError(f"{m.path}: operator {op.index} ({op.op}) writes tensor {idx}, {what}", _REEXPORT)
            written.add(idx)
    for idx in m.outputs:
        if idx not in written:
            raise ModelError(f"{m.path}: model output tensor {idx} is never written", _REEXPORT)
