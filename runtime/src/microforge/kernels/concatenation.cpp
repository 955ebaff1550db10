#include "microforge/kernels/concatenation.h"

#include <string.h>

#include "microforge/flatbuffer.h"

namespace mf {
namespace kernels {
namespace concatenation {

namespace {

constexpr int kOptAxis = 0, kOptActivation = 1;  // ConcatenationOptions

Status parse(const FbTable& options, void* params) {
  int32_t axis = 0;
  int8_t act = 0;
  if (!options.scalar<int32_t>(kOptAxis, 0, &axis) ||
      !options.scalar<int8_t>(kOptActivation, 0, &act)) {
    return Status::kBadModel;
  }
  if (act != 0) return Status::kUnsupportedType;
  static_cast<Params*>(params)->axis = axis;
  return Status::kOk;
}

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

Status prepare(Node& node) {
  if (node.num_inputs < 1 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* out = node.outputs()[0];
  if (out == nullptr || out->rank < 1) return Status::kKernelError;
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  const int32_t axis = p.axis < 0 ? p.axis + out->rank : p.axis;
  if (axis < 0 || axis >= out->rank) return Status::kKernelError;
  if (out->type != DType::kInt8 && out->type != DType::kFloat32) return Status::kUnsupportedType;
  int32_t total = 0;
  for (uint8_t i = 0; i < node.num_inputs; ++i) {
    const Tensor* in = node.inputs[i];
    if (in == nullptr || in->rank != out->rank) return Status::kKernelError;
    if (in->type != out->type) return Status::kUnsupportedType;
    if (out->type == DType::kInt8 &&
        (in->num_channels != 1 || out->num_channels != 1 || in->scale != out->scale ||
         in->zero_point != out->zero_point)) {
      return Status::kUnsupportedType;
    }
    for (int k = 0; k < out->rank; ++k) {
      if (k != axis && in->dims[k] != out->dims[k]) return Status::kKernelError;
    }
    total += in->dims[axis];
  }
  if (total != out->dims[axis]) return Status::kKernelError;
  d->axis = axis;
  d->outer = 1;
  for (int k = 0; k < axis; ++k) d->outer *= out->dims[k];
  d->inner = static_cast<int32_t>(dtype_bytes(out->type));
  for (int k = axis + 1; k < out->rank; ++k) d->inner *= out->dims[k];
  return Status::kOk;
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  uint8_t* y = static_cast<uint8_t*>(node.outputs()[0]->data);
  for (int32_t o = 0; o < d.outer; ++o) {
    for (uint8_t i = 0; i < node.num_inputs; ++i) {
      const Tensor& in = *node.inputs[i];
      const size_t n = static_cast<size_t>(in.dims[d.axis]) * static_cast<size_t>(d.inner);
      memcpy(y, static_cast<const uint8_t*>(in.data) + static_cast<size_t>(o) * n, n);
      y += n;
    }
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 CONCATENATION is v2 (v3 = int16, v4 = uint32).
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    parse, data_bytes, prepare, eval};

}  // namespace concatenation
}  // namespace kernels
}  // namespace mf
