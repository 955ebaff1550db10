#include "microforge/kernels/transpose.h"

#include <string.h>

#include "microforge/flatbuffer.h"

namespace mf {
namespace kernels {
namespace transpose {

namespace {

Status parse(const FbTable& /*options*/, void* /*params*/) { return Status::kOk; }

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

Status prepare(Node& node) {
  if (node.num_inputs != 2 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* perm = node.inputs[1];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || perm == nullptr || out == nullptr) return Status::kKernelError;
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (in->type != out->type) return Status::kUnsupportedType;
  d->elem_bytes = static_cast<uint8_t>(dtype_bytes(in->type));
  if (d->elem_bytes != 1 && d->elem_bytes != 4) return Status::kUnsupportedType;
  if (in->type == DType::kInt8 && (in->scale != out->scale || in->zero_point != out->zero_point)) {
    return Status::kUnsupportedType;  // no requantization
  }
  if (perm->type != DType::kInt32 || !perm->is_constant || perm->data == nullptr ||
      perm->elements() != in->rank || out->rank != in->rank) {
    return Status::kUnsupportedType;
  }
  int32_t strides[kMaxRank];
  int32_t s = 1;
  for (int k = in->rank - 1; k >= 0; --k) {
    strides[k] = s;
    s *= in->dims[k];
  }
  const int32_t* p = perm->as<int32_t>();
  bool used[kMaxRank] = {false, false, false, false, false, false};
  d->rank = in->rank;
  for (int k = 0; k < in->rank; ++k) {
    const int32_t a = p[k];
    if (a < 0 || a >= in->rank || used[a] || out->dims[k] != in->dims[a]) return Status::kKernelError;
    used[a] = true;
    d->out_dims[k] = out->dims[k];
    d->in_strides[k] = strides[a];
  }
  d->size = out->elements();
  return Status::kOk;
}

template <typename T> void eval_typed(const OpData& d, const T* x, T* y) {
  int32_t idx[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int32_t off = 0;
  for (int32_t o = 0; o < d.size; ++o) {
    y[o] = x[off];
    for (int k = d.rank - 1; k >= 0; --k) {
      off += d.in_strides[k];
      if (++idx[k] < d.out_dims[k]) break;
      off -= d.in_strides[k] * d.out_dims[k];
      idx[k] = 0;
    }
  }
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (d.elem_bytes == 4) {
    eval_typed(d, node.inputs[0]->as<uint32_t>(), node.outputs()[0]->as<uint32_t>());
  } else {
    eval_typed(d, node.inputs[0]->as<uint8_t>(), node.outputs()[0]->as<uint8_t>());
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 TRANSPOSE is v2 (later: 5-6D, int16, bool).
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    parse, data_bytes, prepare, eval};

}  // namespace transpose
}  // namespace kernels
}  // namespace mf
