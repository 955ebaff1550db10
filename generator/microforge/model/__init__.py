"""Reading a model: the flatbuffer parsed once into ``ModelInfo`` (reader), the operators the
runtime implements and the types its kernels take (ops, from the runtime's kernel registry), and
what the model costs to run (analysis). Lowering and the device side read models through here."""

from microforge.model.reader import (
    ModelInfo,
    OperatorInfo,
    Quantization,
    TensorInfo,
    builtin_options,
    check_runtime_rules,
    conv_dilation,
    parse_model,
    read_model,
)

__all__ = ["ModelInfo", "OperatorInfo", "Quantization", "TensorInfo", "builtin_options", "check_runtime_rules",
           "conv_dilation", "parse_model", "read_model"]
