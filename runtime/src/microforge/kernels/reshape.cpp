#include "microforge/kernels/reshape.h"

#include <string.h>

#include "microforge/flatbuffer.h"

namespace mf {
namespace kernels {
namespace reshape_common {

namespace {

Status parse(const FbTable& /*options*/, void* /*params*/) { return Status::kOk; }

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

// max_inputs: RESHAPE may carry a shape tensor, EXPAND_DIMS carries its axis.
Status prepare_copy(Node& node, uint8_t min_inputs, uint8_t max_inputs) {
  if (node.num_inputs < min_inputs || node.num_inputs > max_inputs || node.num_outputs != 1) {
    return Status::kKernelError;
  }
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr) return Status::kKernelError;
  if (in->type != out->type) return Status::kUnsupportedType;
  if (in->elements() != out->elements() || in->bytes != out->bytes) return Status::kKernelError;
  static_cast<OpData*>(node.op_data)->bytes = in->bytes;
  return Status::kOk;
}

Status prepare_reshape(Node& node) { return prepare_copy(node, 1, 2); }
Status prepare_squeeze(Node& node) { return prepare_copy(node, 1, 1); }

Status prepare_expand_dims(Node& node) {
  if (node.num_inputs != 2 || node.inputs[1] == nullptr) return Status::kKernelError;
  const Tensor& axis = *node.inputs[1];
  if ((axis.type != DType::kInt32 && axis.type != DType::kInt64) || axis.elements() != 1) {
    return Status::kUnsupportedType;
  }
  const Status s = prepare_copy(node, 2, 2);
  if (s != Status::kOk) return s;
  if (node.outputs()[0]->rank != node.inputs[0]->rank + 1) return Status::kKernelError;
  return Status::kOk;
}

// The generator's plan usually puts the output on the input's bytes (the input
// dies here): then there is nothing to copy.
Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (node.outputs()[0]->data != node.inputs[0]->data) {
    memmove(node.outputs()[0]->data, node.inputs[0]->data, d.bytes);
  }
  return Status::kOk;
}

}  // namespace

}  // namespace reshape_common

// TFLM ignores op versions; these ops only copy bytes, so every version the
// converter emits for int8 / float tensors is accepted (types checked in prepare).
namespace rc = reshape_common;
// kPlanned: eval only, for nodes whose op data the generator's plan carries.
namespace reshape {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    rc::parse, rc::data_bytes, rc::prepare_reshape, rc::eval};
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                               nullptr, nullptr, nullptr, rc::eval};
}  // namespace reshape
namespace squeeze {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    rc::parse, rc::data_bytes, rc::prepare_squeeze, rc::eval};
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                               nullptr, nullptr, nullptr, rc::eval};
}  // namespace squeeze
namespace expand_dims {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    rc::parse, rc::data_bytes, rc::prepare_expand_dims, rc::eval};
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                               nullptr, nullptr, nullptr, rc::eval};
}  // namespace expand_dims

}  // namespace kernels
}  // namespace mf
