#include "microforge/model_reader.h"

namespace mf {
namespace tfl {

namespace {

constexpr Status kBad = Status::kBadModel;

// dims of a rank-0 tensor (never read, but never null either).
const int32_t kNoDims[kMaxRank] = {0, 0, 0, 0, 0, 0};

bool aligned(const void* p, size_t a) {
  return (reinterpret_cast<uintptr_t>(p) & (a - 1u)) == 0;
}

// Every entry of an int32 index vector in [lo, n).
bool indices_ok(const FbVector& v, int32_t lo, uint32_t n) {
  for (uint32_t i = 0; i < v.size(); ++i) {
    int32_t x = 0;
    if (!v.get(i, &x) || x < lo || (x >= 0 && static_cast<uint32_t>(x) >= n)) return false;
  }
  return true;
}

Status read_quantization(const FbTable& q, Tensor* t) {
  FbVector scales, zps;
  int32_t dim = 0;
  if (!q.vector(kQuantScale, 4, &scales) || !q.vector(kQuantZeroPoint, 8, &zps) ||
      !q.scalar<int32_t>(kQuantDimension, 0, &dim)) {
    return kBad;
  }
  const uint32_t n = scales.size();
  if (n == 0) return Status::kOk;  // not quantized (zero points alone are ignored)
  if (zps.size() != n) return kBad;
  if (!aligned(scales.data(), 4) || !aligned(zps.data(), 8)) return kBad;
  // A 1-D tensor (a bias) may carry the weights' axis: TFLM accepts it, so do we.
  if (n > 1 && t->rank == 1 && t->dims[0] == static_cast<int32_t>(n)) dim = 0;
  if (n > 1 && (dim < 0 || dim >= t->rank || t->dims[dim] != static_cast<int32_t>(n))) {
    return kBad;
  }
  int64_t zp0 = 0;
  scales.get(0, &t->scale);
  zps.get(0, &zp0);
  if (zp0 < INT32_MIN || zp0 > INT32_MAX) return kBad;
  t->num_channels = static_cast<int32_t>(n);
  t->quantized_dimension = static_cast<int8_t>(n > 1 ? dim : 0);
  t->zero_point = static_cast<int32_t>(zp0);
  t->scales = reinterpret_cast<const float*>(scales.data());
  t->zero_points = reinterpret_cast<const int64_t*>(zps.data());
  return Status::kOk;
}

}  // namespace

Status open_model(const uint8_t* buf, size_t size, ModelView* mv) {
  if (buf == nullptr || size < 8) return kBad;
  if (buf[4] != 'T' || buf[5] != 'F' || buf[6] != 'L' || buf[7] != '3') return kBad;
  uint32_t version = 0;
  FbVector subgraphs;
  if (!FbTable::root(buf, size, &mv->model) ||
      !mv->model.scalar<uint32_t>(kModelVersion, 0, &version) ||
      !mv->model.vector(kModelOperatorCodes, 4, &mv->opcodes) ||
      !mv->model.vector(kModelSubgraphs, 4, &subgraphs) ||
      !mv->model.vector(kModelBuffers, 4, &mv->buffers)) {
    return kBad;
  }
  if (version != kSchemaVersion || subgraphs.size() == 0) return kBad;
  if (subgraphs.size() != 1) return Status::kUnsupportedType;  // v0: one subgraph
  const FbTable& sg = mv->subgraph;
  if (!subgraphs.table(0, &mv->subgraph) || !sg.vector(kSubgraphTensors, 4, &mv->tensors) ||
      !sg.vector(kSubgraphInputs, 4, &mv->inputs) ||
      !sg.vector(kSubgraphOutputs, 4, &mv->outputs) ||
      !sg.vector(kSubgraphOperators, 4, &mv->operators)) {
    return kBad;
  }
  const uint32_t nt = mv->tensors.size();
  if (!indices_ok(mv->inputs, 0, nt) || !indices_ok(mv->outputs, 0, nt)) return kBad;
  // The interpreter keeps int32 pointers to these vectors.
  if (!aligned(mv->inputs.data(), 4) || !aligned(mv->outputs.data(), 4)) return kBad;
  return Status::kOk;
}

Status read_tensor(const ModelView& mv, uint32_t index, Tensor* t) {
  *t = Tensor();
  FbTable tt, quant, sparsity, buffer;
  FbVector shape, data;
  int8_t type = 0;
  uint32_t buf_index = 0;
  uint64_t ext_offset = 0, ext_size = 0;
  if (!mv.tensors.table(index, &tt) || !tt.vector(kTensorShape, 4, &shape) ||
      !tt.scalar<int8_t>(kTensorType, 0, &type) ||
      !tt.scalar<uint32_t>(kTensorBuffer, 0, &buf_index) ||
      !tt.table(kTensorQuantization, &quant) || !tt.table(kTensorSparsity, &sparsity)) {
    return kBad;
  }
  if (!sparsity.empty()) return Status::kUnsupportedType;
  if (shape.size() > static_cast<uint32_t>(kMaxRank)) return Status::kUnsupportedType;
  t->type = static_cast<DType>(static_cast<uint8_t>(type));
  const size_t esize = dtype_bytes(t->type);
  if (esize == 0) return Status::kUnsupportedType;
  t->rank = static_cast<uint8_t>(shape.size());
  // Tensor::dims points at the shape vector itself (int32 little-endian, like every
  // int32 vector the runtime keeps pointers to), so it must be 4-byte aligned.
  if (shape.size() > 0 && !aligned(shape.data(), 4)) return kBad;
  t->dims = shape.size() > 0 ? reinterpret_cast<const int32_t*>(shape.data()) : kNoDims;
  uint64_t bytes = esize;
  for (uint32_t i = 0; i < shape.size(); ++i) {
    int32_t dim = -1;
    shape.get(i, &dim);
    if (dim < 0 || dim != t->dims[i]) return kBad;
    bytes *= static_cast<uint64_t>(dim);
    if (bytes > 0x7fffffffu) return kBad;  // also keeps elements() in int32
  }
  t->bytes = static_cast<uint32_t>(bytes);

  if (buf_index >= mv.buffers.size() || !mv.buffers.table(buf_index, &buffer) ||
      !buffer.vector(kBufferData, 1, &data) ||
      !buffer.scalar<uint64_t>(kBufferOffset, 0, &ext_offset) ||
      !buffer.scalar<uint64_t>(kBufferSize, 0, &ext_size)) {
    return kBad;
  }
  if (ext_offset != 0 || ext_size != 0) return Status::kUnsupportedType;  // external data
  if (data.size() != 0) {
    if (data.size() != t->bytes) return kBad;
    if (!aligned(data.data(), esize > 8 ? 8 : esize)) return kBad;
    t->data = const_cast<uint8_t*>(data.data());  // constants are never written
    t->is_constant = true;
  }
  return read_quantization(quant, t);
}

bool tensor_is_variable(const ModelView& mv, uint32_t index) {
  FbTable tt;
  uint8_t variable = 0;
  return mv.tensors.table(index, &tt) && tt.scalar<uint8_t>(kTensorIsVariable, 0, &variable) &&
         variable != 0;
}

Status read_operator(const ModelView& mv, uint32_t index, OpView* op) {
  FbTable ot, code;
  uint32_t opcode_index = 0;
  int8_t deprecated = 0;
  int32_t builtin = 0;
  if (!mv.operators.table(index, &ot) ||
      !ot.scalar<uint32_t>(kOperatorOpcodeIndex, 0, &opcode_index) ||
      !ot.vector(kOperatorInputs, 4, &op->inputs) ||
      !ot.vector(kOperatorOutputs, 4, &op->outputs) ||
      !ot.scalar<uint8_t>(kOperatorOptionsType, 0, &op->options_type) ||
      !ot.table(kOperatorOptions, &op->options)) {
    return kBad;
  }
  if (opcode_index >= mv.opcodes.size() || !mv.opcodes.table(opcode_index, &code) ||
      !code.scalar<int8_t>(kOpCodeDeprecatedBuiltin, 0, &deprecated) ||
      !code.scalar<int32_t>(kOpCodeBuiltin, 0, &builtin) ||
      !code.scalar<int32_t>(kOpCodeVersion, 1, &op->version)) {
    return kBad;
  }
  op->builtin_code = builtin > deprecated ? builtin : deprecated;
  const uint32_t nt = mv.tensors.size();
  if (op->inputs.size() > 255 || op->outputs.size() > 255) return Status::kUnsupportedType;
  if (!indices_ok(op->inputs, -1, nt) || !indices_ok(op->outputs, 0, nt)) return kBad;
  return Status::kOk;
}

}  // namespace tfl
}  // namespace mf
