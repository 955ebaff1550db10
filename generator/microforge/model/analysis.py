"""Figures about a model: op counts, parameters, MACs, I/O; what `microforge inspect` prints."""

from __future__ import annotations

from collections import Counter

from microforge.model import ModelInfo, OperatorInfo, TensorInfo
from microforge.model.ops import kernel_for, type_problem


def op_macs(model: ModelInfo, op: OperatorInfo) -> int:
    """Multiply-accumulates of one operator (0 for ops without a MAC loop)."""
    t = model.tensors
    if not op.outputs or op.outputs[0] < 0 or len(op.inputs) < 2 or op.inputs[1] < 0:
        return 0
    out = t[op.outputs[0]]
    w = t[op.inputs[1]]
    if op.op == "FULLY_CONNECTED" and len(w.shape) == 2:
        return out.elements * w.shape[1]
    if op.op == "CONV_2D" and len(w.shape) == 4:
        return out.elements * w.shape[1] * w.shape[2] * w.shape[3]
    if op.op == "DEPTHWISE_CONV_2D" and len(w.shape) == 4:
        return out.elements * w.shape[1] * w.shape[2]
    return 0


def _tensor_summary(t: TensorInfo) -> dict[str, object]:
    return {
        "index": t.index,
        "name": t.name,
        "dtype": t.dtype,
        "shape": list(t.shape),
        "bytes": t.nbytes,
        "quantization": t.quant.as_dict(),
    }


def summarize(model: ModelInfo) -> dict[str, object]:
    counts = Counter(op.op for op in model.operators)
    # What `new` refuses, per operator: no kernel for it, or tensor types its kernel rejects.
    unsupported: list[dict[str, object]] = []
    for op in model.operators:
        if kernel_for(op) is None:
            unsupported.append({"index": op.index, "op": op.op, "version": op.version})
        elif (p := type_problem(model, op)) is not None:
            unsupported.append({"index": op.index, "op": op.op, "version": op.version, "types": p.problem})
    return {
        "model": model.path.name,
        "bytes": len(model.data),
        "schema_version": model.version,
        "subgraphs": model.subgraphs,
        "operators": len(model.operators),
        "ops": dict(sorted(counts.items())),
        "op_versions": sorted({f"{op.op}:v{op.version}" for op in model.operators}),
        "parameters": sum(t.elements for t in model.tensors if t.constant),
        "macs": sum(op_macs(model, op) for op in model.operators),
        "tensors": len(model.tensors),
        "inputs": [_tensor_summary(t) for t in model.input_tensors()],
        "outputs": [_tensor_summary(t) for t in model.output_tensors()],
        "unsupported": unsupported,
    }


def _io_line(d: dict) -> str:
    q = d["quantization"]
    qs = ""
    if q.get("per_channel"):
        qs = f" per-channel({q['channels']} on axis {q['axis']})"
    elif q:
        qs = f" scale={q['scale']:.6g} zero_point={q['zero_point']}"
    return f"{d['dtype']}{d['shape']}{qs}  ({d['bytes']} B)"


def format_summary(s: dict) -> str:
    lines = [
        f"model       {s['model']} ({s['bytes']:,} bytes, schema v{s['schema_version']})",
        f"operators   {s['operators']}: " + ", ".join(f"{k} x{v}" for k, v in s["ops"].items()),
        f"versions    {', '.join(s['op_versions'])}",
        f"parameters  {s['parameters']:,}",
        f"MACs        {s['macs']:,}",
    ]
    lines += [f"input {i}     {_io_line(d)}" for i, d in enumerate(s["inputs"])]
    lines += [f"output {i}    {_io_line(d)}" for i, d in enumerate(s["outputs"])]
    missing = [u for u in s["unsupported"] if "types" not in u]
    types = [u for u in s["unsupported"] if "types" in u]
    if missing:
        lines.append("unsupported " + ", ".join(f"#{u['index']} {u['op']} v{u['version']}" for u in missing))
    lines += [f"unsupported #{u['index']} {u['op']}: {u['types']} is not supported" for u in types]
    if not s["unsupported"]:
        lines.append("runtime     all operators supported")
    return "\n".join(lines)
