"""The operators the runtime implements, and the check that a model uses only those."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import UnsupportedOpsError
from .model import ModelInfo, OperatorInfo


@dataclass(frozen=True)
class Kernel:
    op: str          # TFLite builtin name
    namespace: str   # C++ namespace under mf::kernels
    header: str      # include path inside the runtime
    versions: tuple[int, int]


# Keep in step with runtime/src/microforge/kernels/.
KERNELS: dict[str, Kernel] = {
    k.op: k
    for k in (
        Kernel("FULLY_CONNECTED", "fully_connected", "microforge/kernels/fully_connected.h", (1, 9)),
        Kernel("QUANTIZE", "quantize", "microforge/kernels/quantize.h", (1, 2)),
        Kernel("DEQUANTIZE", "dequantize", "microforge/kernels/dequantize.h", (1, 2)),
        Kernel("CONV_2D", "conv_2d", "microforge/kernels/conv_2d.h", (1, 8)),
        Kernel("DEPTHWISE_CONV_2D", "depthwise_conv_2d", "microforge/kernels/depthwise_conv_2d.h", (1, 7)),
        Kernel("AVERAGE_POOL_2D", "average_pool_2d", "microforge/kernels/average_pool_2d.h", (1, 3)),
        Kernel("MAX_POOL_2D", "max_pool_2d", "microforge/kernels/max_pool_2d.h", (1, 3)),
        Kernel("ADD", "add", "microforge/kernels/arithmetic.h", (1, 5)),
        Kernel("SUB", "sub", "microforge/kernels/arithmetic.h", (1, 5)),
        Kernel("MUL", "mul", "microforge/kernels/arithmetic.h", (1, 7)),
        Kernel("SOFTMAX", "softmax", "microforge/kernels/softmax.h", (1, 3)),
        Kernel("RESHAPE", "reshape", "microforge/kernels/reshape.h", (1, 3)),
        Kernel("SQUEEZE", "squeeze", "microforge/kernels/reshape.h", (1, 2)),
        Kernel("EXPAND_DIMS", "expand_dims", "microforge/kernels/reshape.h", (1, 2)),
        Kernel("MEAN", "mean", "microforge/kernels/mean.h", (1, 3)),
        Kernel("PAD", "pad", "microforge/kernels/pad.h", (1, 4)),
        Kernel("PADV2", "padv2", "microforge/kernels/pad.h", (1, 4)),
        Kernel("CONCATENATION", "concatenation", "microforge/kernels/concatenation.h", (1, 4)),
        Kernel("RELU", "relu", "microforge/kernels/activations.h", (1, 3)),
        Kernel("RELU6", "relu6", "microforge/kernels/activations.h", (1, 3)),
        Kernel("LEAKY_RELU", "leaky_relu", "microforge/kernels/activations.h", (1, 2)),
        Kernel("TRANSPOSE", "transpose", "microforge/kernels/transpose.h", (1, 6)),
        Kernel("STRIDED_SLICE", "strided_slice", "microforge/kernels/strided_slice.h", (1, 8)),
        Kernel("LOGISTIC", "logistic", "microforge/kernels/logistic.h", (1, 3)),
        Kernel("TANH", "tanh", "microforge/kernels/logistic.h", (1, 3)),
        Kernel("HARD_SWISH", "hard_swish", "microforge/kernels/hard_swish.h", (1, 1)),
    )
}


def kernel_for(op: OperatorInfo) -> Kernel | None:
    k = KERNELS.get(op.op)
    if k is None or not (k.versions[0] <= op.version <= k.versions[1]):
        return None
    return k


def _versions_note(op: OperatorInfo) -> str:
    k = KERNELS.get(op.op)
    return f" (runtime has v{k.versions[0]}-{k.versions[1]})" if k else ""


def check_supported(model: ModelInfo) -> list[Kernel]:
    """Return the kernels the model needs, in first-use order; list every gap at once."""
    missing = [op for op in model.operators if kernel_for(op) is None]
    if missing:
        lines = [f"  operator {op.index}: {op.op} v{op.version}{_versions_note(op)}" for op in missing]
        names = sorted({op.op for op in missing})
        raise UnsupportedOpsError(
            f"{model.path.name} uses {len(missing)} operator(s) the microforge runtime lacks "
            f"({', '.join(names)}):\n" + "\n".join(lines),
            f"supported operators: {', '.join(sorted(KERNELS))}; re-export the model with those, "
            "or add the kernels to runtime/",
        )
    needed: list[Kernel] = []
    for op in model.operators:
        k = kernel_for(op)
        if k is not None and k not in needed:
            needed.append(k)
    return needed
