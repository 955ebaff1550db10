// Reads the parts of the TFLite schema (schema.fbs, file identifier "TFL3")
// the runtime needs, through the bounds-checked FbTable. Field ids below are
// the schema's: vtable slot = 4 + 2 * id.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/flatbuffer.h"
#include "microforge/runtime.h"
#include "microforge/tensor.h"

namespace mf {
namespace tfl {

// table Model
constexpr int kModelVersion = 0, kModelOperatorCodes = 1, kModelSubgraphs = 2,
              kModelBuffers = 4;
// table OperatorCode
constexpr int kOpCodeDeprecatedBuiltin = 0, kOpCodeVersion = 2, kOpCodeBuiltin = 3;
// table SubGraph
constexpr int kSubgraphTensors = 0, kSubgraphInputs = 1, kSubgraphOutputs = 2,
              kSubgraphOperators = 3;
// table Tensor
constexpr int kTensorShape = 0, kTensorType = 1, kTensorBuffer = 2,
              kTensorQuantization = 4, kTensorIsVariable = 5, kTensorSparsity = 6;
// table QuantizationParameters
constexpr int kQuantScale = 2, kQuantZeroPoint = 3, kQuantDimension = 6;
// table Operator
constexpr int kOperatorOpcodeIndex = 0, kOperatorInputs = 1, kOperatorOutputs = 2,
              kOperatorOptionsType = 3, kOperatorOptions = 4;
// table Buffer
constexpr int kBufferData = 0, kBufferOffset = 1, kBufferSize = 2;

constexpr uint32_t kSchemaVersion = 3;

// The model's top-level tables and vectors, all bounds-checked.
struct ModelView {
  FbTable model;
  FbVector opcodes;    // [OperatorCode]
  FbVector buffers;    // [Buffer]
  FbTable subgraph;    // subgraphs[0]
  FbVector tensors;    // [Tensor]
  FbVector inputs;     // [int32]
  FbVector outputs;    // [int32]
  FbVector operators;  // [Operator]
};

// One operator as the interpreter needs it.
struct OpView {
  int32_t builtin_code;  // max(deprecated_builtin_code, builtin_code)
  int32_t version;
  FbVector inputs;       // [int32], -1 = optional input absent
  FbVector outputs;      // [int32]
  uint8_t options_type;  // BuiltinOptions union tag
  FbTable options;       // builtin_options (empty when absent)
};

// Checks identifier, version 3, a single subgraph and the graph's io indices.
Status open_model(const uint8_t* buf, size_t size, ModelView* mv);

// Fills t from tensors[index]: shape, type, bytes, quantization, and data for
// constants (pointer into the model). Activations get data = nullptr.
Status read_tensor(const ModelView& mv, uint32_t index, Tensor* t);

// True when tensors[index] is a variable (state read before any operator
// writes it, e.g. LSTM). False for a malformed entry (read_tensor rejects it).
bool tensor_is_variable(const ModelView& mv, uint32_t index);

// Reads operators[index] and checks its opcode and tensor indices.
Status read_operator(const ModelView& mv, uint32_t index, OpView* op);

}  // namespace tfl
}  // namespace mf
