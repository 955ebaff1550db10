"""The runtime's records of a model's constant tensors, built at generation time for flash.

The interpreter keeps one ``mf::Tensor`` record per tensor. Those of constant tensors (weights,
biases, shapes) never change, so the generator emits them into ``model_plan.cpp`` as a flash
array that points into the embedded model (``model::kData + offset``) and the arena holds records
for the other tensors only (36 B each saved on Cortex-M4). The fields follow the runtime's model
reader (runtime/src/microforge/model_reader.cpp) and ``init()`` compares each record with what
its reader finds, so a mistake here is a clear ``kBadPlan``, never a wrong result.
"""

from __future__ import annotations

from dataclasses import dataclass

from microforge.model import ModelInfo

MAX_TENSORS = 0x8000  # record indices are 15 bits (MemoryPlan::kConstantRecord marks constants)

# vtable slots of the vector fields read here (tflite/*.py: self._tab.Offset(n))
_TENSOR_SHAPE = 4
_BUFFER_DATA = 4
_QUANT_SCALE, _QUANT_ZERO_POINT = 8, 10


@dataclass(frozen=True)
class ConstantRecord:
    """One ``mf::Tensor`` of a constant; offsets are byte offsets into the model."""

    index: int
    data: int
    dims: int
    bytes: int
    num_channels: int
    scale: float
    zero_point: int
    scales: int | None
    zero_points: int | None
    rank: int
    dtype: int
    quantized_dimension: int


def _vector(table: object, slot: int) -> tuple[int, int] | None:
    """(start offset, length) of a vector field, None when absent."""
    tab = table._tab  # type: ignore[attr-defined]
    o = tab.Offset(slot)
    if not o:
        return None
    return tab.Vector(o), tab.VectorLen(o)


def constant_records(model: ModelInfo) -> list[ConstantRecord] | None:
    """The records in tensor order, or None when the model is outside what they cover (then the
    runtime builds every record itself, as it does without a plan)."""
    return _records(model, activations=False)


def tensor_records(model: ModelInfo) -> list[ConstantRecord] | None:
    """A record for every tensor in tensor order (a full plan's flash records): activations have
    data -1 (the memory plan places them in the arena), or None as for constant_records."""
    return _records(model, activations=True)


def _records(model: ModelInfo, activations: bool) -> list[ConstantRecord] | None:
    if len(model.tensors) >= MAX_TENSORS:
        return None
    root = model.root
    sub = root.Subgraphs(0)
    records = []
    for info in model.tensors:
        t = sub.Tensors(info.index)
        buf = root.Buffers(t.Buffer())
        data = _vector(buf, _BUFFER_DATA) if buf is not None else None
        if (data is not None and data[1] > 0) != info.constant:
            return None  # buffer 0 with data: the runtime would call it a constant, plan.py not
        if not info.constant and not activations:
            continue
        shape = _vector(t, _TENSOR_SHAPE)
        rank = shape[1] if shape else 0
        start = data[0] if info.constant and data is not None else -1
        record = dict(index=info.index, data=start, dims=shape[0] if shape else 0, bytes=info.nbytes,
                      num_channels=0, scale=0.0, zero_point=0, scales=None, zero_points=None, rank=rank,
                      dtype=t.Type(), quantized_dimension=0)
        q = t.Quantization()
        scales = _vector(q, _QUANT_SCALE) if q is not None else None
        if scales is not None and scales[1] > 0:
            zps = _vector(q, _QUANT_ZERO_POINT)
            n = scales[1]
            if zps is None or zps[1] != n:
                return None
            dim = q.QuantizedDimension()
            if n > 1 and rank == 1 and info.shape[0] == n:
                dim = 0  # a bias carrying the weights' axis (the reader does the same)
            record.update(num_channels=n, scale=info.quant.scales[0], zero_point=info.quant.zero_points[0],
                          scales=scales[0], zero_points=zps[0], quantized_dimension=dim if n > 1 else 0)
        records.append(ConstantRecord(**record))
    return records
