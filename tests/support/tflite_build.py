"""Builds tiny .tflite models for runtime tests (flatbuffers + tflite builders)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import flatbuffers
import numpy as np

# The tflite package re-exports classes under the module names: load the modules.
(Buffer, FullyConnectedOptions, Model, Operator, OperatorCode, QuantizationParameters, SubGraph, Tensor) = (
    importlib.import_module(f"tflite.{n}")
    for n in (
        "Buffer",
        "FullyConnectedOptions",
        "Model",
        "Operator",
        "OperatorCode",
        "QuantizationParameters",
        "SubGraph",
        "Tensor",
    )
)

FULLY_CONNECTED, QUANTIZE, DEQUANTIZE = 9, 114, 6
FLOAT32, INT32, INT8 = 0, 2, 9
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3
_NP = {FLOAT32: np.float32, INT32: np.int32, INT8: np.int8}


@dataclass
class T:
    shape: list[int]
    type: int
    data: np.ndarray | None = None
    scale: list[float] | None = None
    zero_point: list[int] | None = None
    qdim: int = 0
    name: str | None = None  # default: t<index>


@dataclass
class Op:
    code: int
    inputs: list[int]
    outputs: list[int]
    version: int = 1
    fc: tuple[int, bool] | None = None  # (activation, keep_num_dims)
    # Generic hook: (BuiltinOptions union type, fn(builder) -> options table offset).
    options: tuple[int, Callable[[flatbuffers.Builder], int]] | None = None


def _ivec(b, start, values, kind="int32"):
    start(b, len(values))
    for v in reversed(values):
        getattr(b, {"int32": "PrependInt32", "int64": "PrependInt64", "float32": "PrependFloat32"}[kind])(v)
    return b.EndVector()


def build(tensors: list[T], ops: list[Op], inputs: list[int], outputs: list[int],
          description: str = "microforge test model") -> bytes:
    b = flatbuffers.Builder(1024)
    # Buffers: 0 is the empty sentinel, one per constant tensor after it.
    buf_index, datas = [], [None]
    for t in tensors:
        if t.data is None:
            buf_index.append(0)
        else:
            buf_index.append(len(datas))
            datas.append(np.ascontiguousarray(t.data, dtype=_NP[t.type]).tobytes())
    buf_offs = []
    for d in datas:
        data_off = None
        if d:
            b.StartVector(1, len(d), 16)  # 16-byte aligned, as the converter does
            b.head = b.head - len(d)
            b.Bytes[b.head : b.head + len(d)] = d
            data_off = b.EndVector()
        Buffer.BufferStart(b)
        if data_off is not None:
            Buffer.BufferAddData(b, data_off)
        buf_offs.append(Buffer.BufferEnd(b))
    t_offs = []
    for i, t in enumerate(tensors):
        q = None
        if t.scale is not None:
            s = _ivec(b, QuantizationParameters.QuantizationParametersStartScaleVector, t.scale, "float32")
            z = _ivec(
                b, QuantizationParameters.QuantizationParametersStartZeroPointVector, t.zero_point, "int64"
            )
            QuantizationParameters.QuantizationParametersStart(b)
            QuantizationParameters.QuantizationParametersAddScale(b, s)
            QuantizationParameters.QuantizationParametersAddZeroPoint(b, z)
            QuantizationParameters.QuantizationParametersAddQuantizedDimension(b, t.qdim)
            q = QuantizationParameters.QuantizationParametersEnd(b)
        shape = _ivec(b, Tensor.TensorStartShapeVector, t.shape)
        name = b.CreateString(t.name if t.name is not None else f"t{i}")
        Tensor.TensorStart(b)
        Tensor.TensorAddShape(b, shape)
        Tensor.TensorAddType(b, t.type)
        Tensor.TensorAddBuffer(b, buf_index[i])
        Tensor.TensorAddName(b, name)
        if q is not None:
            Tensor.TensorAddQuantization(b, q)
        t_offs.append(Tensor.TensorEnd(b))
    codes = sorted({(o.code, o.version) for o in ops})
    op_offs = []
    for o in ops:
        opt = None
        if o.fc is not None:
            FullyConnectedOptions.FullyConnectedOptionsStart(b)
            FullyConnectedOptions.FullyConnectedOptionsAddFusedActivationFunction(b, o.fc[0])
            FullyConnectedOptions.FullyConnectedOptionsAddKeepNumDims(b, o.fc[1])
            opt = FullyConnectedOptions.FullyConnectedOptionsEnd(b)
        opt_type = 8
        if o.options is not None:
            opt_type, opt = o.options[0], o.options[1](b)
        ins = _ivec(b, Operator.OperatorStartInputsVector, o.inputs)
        outs = _ivec(b, Operator.OperatorStartOutputsVector, o.outputs)
        Operator.OperatorStart(b)
        Operator.OperatorAddOpcodeIndex(b, codes.index((o.code, o.version)))
        Operator.OperatorAddInputs(b, ins)
        Operator.OperatorAddOutputs(b, outs)
        if opt is not None:
            Operator.OperatorAddBuiltinOptionsType(b, opt_type)
            Operator.OperatorAddBuiltinOptions(b, opt)
        op_offs.append(Operator.OperatorEnd(b))

    def table_vec(start, offs):
        start(b, len(offs))
        for off in reversed(offs):
            b.PrependUOffsetTRelative(off)
        return b.EndVector()

    sg_t = table_vec(SubGraph.SubGraphStartTensorsVector, t_offs)
    sg_o = table_vec(SubGraph.SubGraphStartOperatorsVector, op_offs)
    sg_in = _ivec(b, SubGraph.SubGraphStartInputsVector, inputs)
    sg_out = _ivec(b, SubGraph.SubGraphStartOutputsVector, outputs)
    SubGraph.SubGraphStart(b)
    SubGraph.SubGraphAddTensors(b, sg_t)
    SubGraph.SubGraphAddInputs(b, sg_in)
    SubGraph.SubGraphAddOutputs(b, sg_out)
    SubGraph.SubGraphAddOperators(b, sg_o)
    sg = SubGraph.SubGraphEnd(b)
    code_offs = []
    for code, version in codes:
        OperatorCode.OperatorCodeStart(b)
        OperatorCode.OperatorCodeAddDeprecatedBuiltinCode(b, min(code, 127))
        OperatorCode.OperatorCodeAddBuiltinCode(b, code)
        OperatorCode.OperatorCodeAddVersion(b, version)
        code_offs.append(OperatorCode.OperatorCodeEnd(b))
    m_codes = table_vec(Model.ModelStartOperatorCodesVector, code_offs)
    m_sgs = table_vec(Model.ModelStartSubgraphsVector, [sg])
    m_bufs = table_vec(Model.ModelStartBuffersVector, buf_offs)
    desc = b.CreateString(description)
    Model.ModelStart(b)
    Model.ModelAddVersion(b, 3)
    Model.ModelAddOperatorCodes(b, m_codes)
    Model.ModelAddSubgraphs(b, m_sgs)
    Model.ModelAddDescription(b, desc)
    Model.ModelAddBuffers(b, m_bufs)
    b.Finish(Model.ModelEnd(b), file_identifier=b"TFL3")
    return bytes(b.Output())


# --- models the runtime tests use ---------------------------------------------


def quant_chain_model(act: int, seed: int, batch: int = 1) -> bytes:
    """float -> QUANTIZE -> QUANTIZE (requant) -> FC (per-channel) -> DEQUANTIZE."""
    rng = np.random.default_rng(seed)
    depth, out = 16, 12
    w = rng.integers(-127, 128, (out, depth)).astype(np.int8)
    ws = [float(s) for s in rng.uniform(0.002, 0.02, out).astype(np.float32)]
    in_s = 0.031
    bias = rng.integers(-3000, 3000, out).astype(np.int32)
    tensors = [
        T([batch, depth], FLOAT32),
        T([batch, depth], INT8, scale=[0.05], zero_point=[3]),
        T([batch, depth], INT8, scale=[in_s], zero_point=[-2]),
        T([out, depth], INT8, w, scale=ws, zero_point=[0] * out, qdim=0),
        T([out], INT32, bias, scale=[in_s * s for s in ws], zero_point=[0] * out),
        T([batch, out], INT8, scale=[0.09], zero_point=[-7]),
        T([batch, out], FLOAT32),
    ]
    ops = [
        Op(QUANTIZE, [0], [1]),
        Op(QUANTIZE, [1], [2], version=2),
        Op(FULLY_CONNECTED, [2, 3, 4], [5], version=5, fc=(act, False)),
        Op(DEQUANTIZE, [5], [6], version=2),
    ]
    return build(tensors, ops, [0], [6])


def int8_fc_model(act: int, seed: int, bias: bool) -> bytes:
    """int8 FC, per-tensor weights, batch 3, optional bias."""
    rng = np.random.default_rng(seed)
    w = rng.integers(-127, 128, (7, 10)).astype(np.int8)
    in_s, w_s = 0.04, 0.011
    tensors = [
        T([3, 10], INT8, scale=[in_s], zero_point=[-9]),
        T([7, 10], INT8, w, scale=[w_s], zero_point=[0]),
        T(
            [7],
            INT32,
            rng.integers(-500, 500, 7).astype(np.int32),
            scale=[float(np.float32(in_s) * np.float64(np.float32(w_s)))],
            zero_point=[0],
        ),
        T([3, 7], INT8, scale=[0.05], zero_point=[4]),
    ]
    ins = [0, 1, 2 if bias else -1]
    ops = [Op(FULLY_CONNECTED, ins, [3], version=4, fc=(act, False))]
    return build(tensors, ops, [0], [3])


def float_fc_model(act: int, seed: int, bias: bool) -> bytes:
    """float FC with keep_num_dims over a [2, 3, 9] input."""
    rng = np.random.default_rng(seed)
    tensors = [
        T([2, 3, 9], FLOAT32),
        T([5, 9], FLOAT32, rng.normal(0, 0.7, (5, 9)).astype(np.float32)),
        T([5], FLOAT32, rng.normal(0, 0.5, 5).astype(np.float32)),
        T([2, 3, 5], FLOAT32),
    ]
    ops = [Op(FULLY_CONNECTED, [0, 1, 2 if bias else -1], [3], version=1, fc=(act, True))]
    return build(tensors, ops, [0], [3])
