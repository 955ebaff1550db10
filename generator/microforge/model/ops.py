"""The operators the runtime implements, the tensor types each kernel takes, and the check that a
model uses only those."""

from __future__ import annotations

import re
from dataclasses import dataclass

from microforge.errors import UnsupportedOpsError
from microforge.model import ModelInfo, OperatorInfo, TensorInfo
from microforge.resources import runtime_dir


@dataclass(frozen=True)
class Kernel:
    op: str          # TFLite builtin name
    namespace: str   # C++ namespace under mf::kernels
    header: str      # include path inside the runtime
    versions: tuple[int, int]
    builtin_code: int


REGISTRY = "microforge/kernels/registry.h"  # inside the runtime's src/: the one list of kernels
_ROW = re.compile(r"^\s*X\((\w+),\s*(\w+),\s*(\w+),\s*(\d+),\s*(\d+),\s*(\d+)\)", re.M)


def read_registry(text: str) -> dict[str, Kernel]:
    """The MF_KERNELS rows of registry.h."""
    return {m[1]: Kernel(m[1], m[2], f"microforge/kernels/{m[3]}.h", (int(m[5]), int(m[6])), int(m[4]))
            for m in _ROW.finditer(text)}


KERNELS: dict[str, Kernel] = read_registry((runtime_dir() / "src" / REGISTRY).read_text(encoding="utf-8"))

# The tensor types each kernel's prepare() accepts (anything else fails init with
# kUnsupportedType), one row per combination: the operator's inputs, "->", its outputs.
# A token is a dtype, with:
#   "?"      the input may be absent (index -1, or left off the end);
#   "..."    (last input only) the input repeats: any number, at least one;
#   "T"      any type the runtime holds (HOLDABLE), the same everywhere in the row;
#   "*"      any type the runtime holds, not checked further;
#   "/q"     exactly one scale (per-tensor quantization: the C++'s num_channels == 1);
#   "/w0", "/w3"  weights: quantized per-tensor, or per-channel along that axis, zero points 0;
#   "/same"  the scale and zero point of output 0 (no requantization).
# Keep in step with runtime/src/microforge/kernels/*.cpp; each row names the C++ it mirrors.
_FLOAT_OR_INT8 = ("float32 -> float32", "int8/q -> int8/q")
TYPE_RULES: dict[str, tuple[str, ...]] = {
    # fully_connected.cpp: fully_connected::prepare, prepare_int8
    "FULLY_CONNECTED": ("float32 float32 float32? -> float32", "int8/q int8/w0 int32? -> int8/q"),
    # quantize.cpp: quantize::prepare (float32 -> int8, int8 -> int8 requantize)
    "QUANTIZE": ("float32 -> int8/q", "int8/q -> int8/q"),
    # dequantize.cpp: dequantize::prepare (int8 -> float32 only)
    "DEQUANTIZE": ("int8/q -> float32",),
    # conv_common.cpp: conv_common::prepare, prepare_int8 (channel_dim 0, from conv_2d::prepare)
    "CONV_2D": ("float32 float32 float32? -> float32", "int8/q int8/w0 int32? -> int8/q"),
    # conv_common.cpp: conv_common::prepare, prepare_int8 (channel_dim 3, from depthwise_conv_2d::prepare)
    "DEPTHWISE_CONV_2D": ("float32 float32 float32? -> float32", "int8/q int8/w3 int32? -> int8/q"),
    # pool_common.cpp: pool_common::prepare
    "AVERAGE_POOL_2D": ("float32 -> float32", "int8 -> int8/q"),
    "MAX_POOL_2D": ("float32 -> float32", "int8 -> int8/q"),
    # arithmetic.cpp: arithmetic::prepare, prepare_int8
    "ADD": ("float32 float32 -> float32", "int8/q int8/q -> int8/q"),
    "SUB": ("float32 float32 -> float32", "int8/q int8/q -> int8/q"),
    "MUL": ("float32 float32 -> float32", "int8/q int8/q -> int8/q"),
    # softmax.cpp: softmax::prepare, prepare_int8 (no int16 output)
    "SOFTMAX": _FLOAT_OR_INT8,
    # reshape.cpp: reshape_common::prepare_copy, prepare_expand_dims (bytes are copied)
    "RESHAPE": ("T *? -> T",),
    "SQUEEZE": ("T -> T",),
    "EXPAND_DIMS": ("T int32 -> T", "T int64 -> T"),
    # mean.cpp: mean::prepare, resolve_axes, prepare_int8
    "MEAN": ("float32 int32 -> float32", "int8/q int32 -> int8/q"),
    # pad.cpp: pad::prepare (PAD and PADV2 share it)
    "PAD": ("float32 int32 float32? -> float32", "int8 int32 int8? -> int8"),
    "PADV2": ("float32 int32 float32? -> float32", "int8 int32 int8? -> int8"),
    # concatenation.cpp: concatenation::prepare
    "CONCATENATION": ("float32... -> float32", "int8/q/same... -> int8/q"),
    # activations.cpp: activations::prepare, prepare_int8
    "RELU": _FLOAT_OR_INT8,
    "RELU6": _FLOAT_OR_INT8,
    "LEAKY_RELU": _FLOAT_OR_INT8,
    # transpose.cpp: transpose::prepare (1- or 4-byte elements; int8 not requantized)
    "TRANSPOSE": ("float32 int32 -> float32", "int32 int32 -> int32", "uint8 int32 -> uint8",
                  "bool int32 -> bool", "int8/same int32 -> int8"),
    # strided_slice.cpp: strided_slice::prepare, index_vector
    "STRIDED_SLICE": ("float32 int32 int32 int32 -> float32", "int8 int32 int32 int32 -> int8"),
    # logistic.cpp: logistic::prepare, prepare_int8 (LOGISTIC and TANH)
    "LOGISTIC": _FLOAT_OR_INT8,
    "TANH": _FLOAT_OR_INT8,
    # hard_swish.cpp: hard_swish::prepare
    "HARD_SWISH": _FLOAT_OR_INT8,
}

# Types the runtime's reader holds (interpreter.cpp dtype_bytes != 0); any other fails init.
HOLDABLE = ("float32", "float16", "int32", "uint8", "int64", "bool", "int16", "int8")

# What the inputs are called in messages (default "input", "input 2", ...).
_ROLES: dict[str, tuple[str, ...]] = {
    **{op: ("input", "weights", "bias") for op in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")},
    **{op: ("input 1", "input 2") for op in ("ADD", "SUB", "MUL")},
    "RESHAPE": ("input", "shape"),
    "EXPAND_DIMS": ("input", "axis"),
    "MEAN": ("input", "axis"),
    "PAD": ("input", "paddings", "pad value"),
    "PADV2": ("input", "paddings", "pad value"),
    "TRANSPOSE": ("input", "permutation"),
    "STRIDED_SLICE": ("input", "begin", "end", "strides"),
}
_WEIGHTED = ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D")


@dataclass(frozen=True)
class _Token:
    dtype: str
    marks: tuple[str, ...]
    optional: bool
    repeats: bool


def _token(text: str) -> _Token:
    repeats = text.endswith("...")
    text = text.removesuffix("...")
    optional = text.endswith("?")
    dtype, *marks = text.removesuffix("?").split("/")
    return _Token(dtype, tuple(marks), optional, repeats)


def _row(text: str) -> tuple[list[_Token], list[_Token]]:
    ins, outs = text.split("->")
    return [_token(t) for t in ins.split()], [_token(t) for t in outs.split()]


_ROWS = {op: [_row(r) for r in rows] for op, rows in TYPE_RULES.items()}
assert set(_ROWS) == set(KERNELS), "TYPE_RULES and KERNELS must name the same operators"


def kernel_for(op: OperatorInfo) -> Kernel | None:
    k = KERNELS.get(op.op)
    if k is None or not (k.versions[0] <= op.version <= k.versions[1]):
        return None
    return k


def _versions_note(op: OperatorInfo) -> str:
    k = KERNELS.get(op.op)
    return f" (runtime has v{k.versions[0]}-{k.versions[1]})" if k else ""


def _role(op: OperatorInfo, k: int) -> str:
    names = _ROLES.get(op.op, ())
    if k < len(names):
        return names[k]
    if op.op == "CONCATENATION":
        return "inputs"
    return "input" if k == 0 else f"input {k + 1}"


def _mark_problem(mark: str, t: TensorInfo, role: str, out0: TensorInfo | None) -> str | None:
    """Why t fails a quantization mark of a row, or None."""
    q, what = t.quant, f"{t.dtype} {role}"
    if not q.scales and mark != "same":
        return f"{what} without quantization parameters"
    if mark == "q" and q.per_channel:
        return f"{what} quantized per-channel ({len(q.scales)} scales)"
    if mark.startswith("w"):
        axis = int(mark[1:])
        if q.per_channel and q.axis != axis:
            return f"{what} quantized per-channel along axis {q.axis} (the kernel needs axis {axis})"
        if any(z != 0 for z in q.zero_points):
            return f"{what} with non-zero zero points"
    if mark == "same" and out0 is not None:
        def first(x: TensorInfo) -> tuple[float, int]:
            return (x.quant.scales[0], x.quant.zero_points[0]) if x.quant.scales else (0.0, 0)
        if first(t) != first(out0):
            return f"{what} quantized differently from the output (the kernel does not requantize)"
    return None


def _match(op: OperatorInfo, tensors: list[TensorInfo], row: tuple[list[_Token], list[_Token]]
           ) -> tuple[bool, str | None]:
    """(the dtypes fit the row, the first quantization problem or None)."""
    ins, outs = row
    if ins and ins[-1].repeats:
        if len(op.inputs) < len(ins):
            return False, None
        ins = ins[:-1] + [ins[-1]] * (len(op.inputs) - len(ins) + 1)
    if len(op.inputs) > len(ins) or len(op.outputs) != len(outs):
        return False, None
    out0 = tensors[op.outputs[0]] if op.outputs and op.outputs[0] >= 0 else None
    bound: str | None = None
    problem: str | None = None
    slots = [(tok, op.inputs[k] if k < len(op.inputs) else -1, _role(op, k)) for k, tok in enumerate(ins)]
    slots += [(tok, idx, "output") for tok, idx in zip(outs, op.outputs, strict=True)]
    for tok, idx, role in slots:
        if idx < 0:
            if tok.optional:
                continue
            return False, None
        t = tensors[idx]
        if tok.dtype in ("T", "*"):
            if t.dtype not in HOLDABLE:
                return False, None
            if tok.dtype == "T":
                if bound is not None and t.dtype != bound:
                    return False, None
                bound = t.dtype
        elif t.dtype != tok.dtype:
            return False, None
        for mark in tok.marks:
            problem = problem or _mark_problem(mark, t, role, out0)
    return True, problem


def _describe_types(op: OperatorInfo, tensors: list[TensorInfo]) -> str:
    """The operator's type combination, e.g. "int16 input and output, int8 weights"."""
    ins = {k: tensors[i] for k, i in enumerate(op.inputs) if i >= 0}
    if op.op in _WEIGHTED and 0 in ins and 1 in ins and ins[0].dtype == "float32" and ins[1].dtype != "float32":
        return f"{ins[1].dtype} weights with float32 input (hybrid)"
    groups: dict[str, list[str]] = {}
    for k, t in ins.items():
        role = _role(op, k)
        if role not in groups.setdefault(t.dtype, []):
            groups[t.dtype].append(role)
    for i in op.outputs:
        if i >= 0 and "output" not in groups.setdefault(tensors[i].dtype, []):
            groups[tensors[i].dtype].append("output")

    def join(roles: list[str]) -> str:
        return roles[0] if len(roles) == 1 else ", ".join(roles[:-1]) + " and " + roles[-1]

    return ", ".join(f"{dtype} {join(roles)}" for dtype, roles in groups.items())


@dataclass(frozen=True)
class TypeProblem:
    """An operator whose kernel exists but whose tensor types its prepare() rejects."""

    op: OperatorInfo
    problem: str  # e.g. "int8 weights with float32 input (hybrid)"

    def line(self) -> str:
        return f"operator {self.op.index} {self.op.op}: {self.problem} is not supported"


def type_problem(model: ModelInfo, op: OperatorInfo) -> TypeProblem | None:
    """Why the runtime's kernel for op would reject its tensor types at init, or None.

    Operators without a kernel (kernel_for is None) are not checked here.
    """
    if kernel_for(op) is None:
        return None
    quant_problem = None
    for row in _ROWS[op.op]:
        fits, problem = _match(op, model.tensors, row)
        if fits and problem is None:
            return None
        if fits and quant_problem is None:
            quant_problem = problem
    return TypeProblem(op, quant_problem or _describe_types(op, model.tensors))


def type_problems(model: ModelInfo) -> list[TypeProblem]:
    """Every operator whose kernel the runtime has but whose tensor types it rejects."""
    return [p for op in model.operators if (p := type_problem(model, op)) is not None]


def _types_hint(problems: list[TypeProblem], model: ModelInfo) -> str:
    hint = ("the runtime's kernels take float32 throughout, or int8 activations with int8 weights (per-tensor, "
            "or per-channel along the output channels, zero points 0) and int32 biases: quantize the model "
            "fully to int8 (TFLiteConverter with a representative dataset and "
            "inference_input_type/inference_output_type int8) or keep it all float32 (convert without "
            "optimizations: no dynamic-range quantization, which makes hybrid operators)")
    dtypes = {model.tensors[i].dtype for p in problems for i in (*p.op.inputs, *p.op.outputs) if i >= 0}
    if "int16" in dtypes:
        hint += "; int16 activations (the 16x8 quantization mode) are not supported"
    return hint


def check_supported(model: ModelInfo) -> list[Kernel]:
    """Return the kernels the model needs, in first-use order; list every gap at once: operators
    the runtime lacks, and operators whose tensor types their kernel rejects."""
    missing = [op for op in model.operators if kernel_for(op) is None]
    problems = type_problems(model)
    if missing or problems:
        parts, hints = [], []
        if missing:
            lines = [f"  operator {op.index}: {op.op} v{op.version}{_versions_note(op)}" for op in missing]
            names = sorted({op.op for op in missing})
            parts.append(f"{model.path.name} uses {len(missing)} operator(s) the microforge runtime lacks "
                         f"({', '.join(names)}):\n" + "\n".join(lines))
            hints.append(f"supported operators: {', '.join(sorted(KERNELS))}; re-export the model with those, "
                         "or add the kernels to runtime/")
        if problems:
            lead = (f"{model.path.name} has" if not missing else "and it has")
            parts.append(f"{lead} {len(problems)} operator(s) whose tensor types the microforge runtime rejects:\n"
                         + "\n".join(f"  {p.line()}" for p in problems))
            hints.append(_types_hint(problems, model))
        raise UnsupportedOpsError("\n".join(parts), "; ".join(hints))
    needed: list[Kernel] = []
    for op in model.operators:
        k = kernel_for(op)
        if k is not None and k not in needed:
            needed.append(k)
    return needed
