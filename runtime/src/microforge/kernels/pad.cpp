#include "microforge/kernels/pad.h"

#include <string.h>

#include "microforge/flatbuffer.h"

namespace mf {
namespace kernels {
namespace pad {

namespace {

constexpr int kMaxPadRank = 5;  // TFLM's reference PAD limit

Status parse(const FbTable& /*options*/, void* /*params*/) { return Status::kOk; }

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

bool same_quant(const Tensor& a, const Tensor& b) {
  return a.num_channels == 1 && b.num_channels == 1 && a.scale == b.scale &&
         a.zero_point == b.zero_point;
}

Status prepare(Node& node) {
  if (node.num_inputs < 2 || node.num_inputs > 3 || node.num_outputs != 1) {
    return Status::kKernelError;
  }
  const Tensor* in = node.inputs[0];
  const Tensor* paddings = node.inputs[1];
  const Tensor* value = node.num_inputs == 3 ? node.inputs[2] : nullptr;
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || paddings == nullptr || out == nullptr) return Status::kKernelError;
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (in->type != out->type) return Status::kUnsupportedType;
  if (in->rank > kMaxPadRank || in->rank != out->rank) return Status::kUnsupportedType;
  if (paddings->type != DType::kInt32 || !paddings->is_constant || paddings->data == nullptr ||
      paddings->rank != 2 || paddings->dims[0] != in->rank || paddings->dims[1] != 2) {
    return Status::kUnsupportedType;
  }
  const int32_t* pads = paddings->as<int32_t>();
  d->rank = in->rank;
  for (int k = 0; k < in->rank; ++k) {
    const int32_t lo = pads[2 * k], hi = pads[2 * k + 1];
    if (lo < 0 || hi < 0 || static_cast<int64_t>(in->dims[k]) + lo + hi != out->dims[k]) {
      return Status::kKernelError;
    }
    d->before[k] = lo;
    d->in_dims[k] = in->dims[k];
    d->out_dims[k] = out->dims[k];
  }
  d->size = out->elements();
  if (value != nullptr) {
    if (value->type != in->type || value->elements() != 1 || !value->is_constant ||
        value->data == nullptr) {
      return Status::kUnsupportedType;
    }
  }
  if (in->type == DType::kFloat32) {
    d->elem_bytes = 4;
    const float v = value != nullptr ? value->as<float>()[0] : 0.0f;
    memcpy(&d->pad_bits, &v, sizeof(v));
    return Status::kOk;
  }
  if (in->type != DType::kInt8) return Status::kUnsupportedType;
  if (!same_quant(*in, *out) || (value != nullptr && !same_quant(*value, *out)) ||
      out->zero_point < -128 || out->zero_point > 127) {
    return Status::kKernelError;
  }
  d->elem_bytes = 1;
  const int8_t v = value != nullptr ? value->as<int8_t>()[0] : static_cast<int8_t>(out->zero_point);
  d->pad_bits = static_cast<uint8_t>(v);
  return Status::kOk;
}

template <typename T> void eval_typed(const OpData& d, const T* x, T* y) {
  T pad_value;
  memcpy(&pad_value, &d.pad_bits, sizeof(T));
  int32_t idx[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int32_t in_off = 0;  // input offset of idx when inside
  for (int32_t o = 0; o < d.size; ++o) {
    bool inside = true;
    for (int k = 0; k < d.rank; ++k) {
      const int32_t i = idx[k] - d.before[k];
      inside = inside && i >= 0 && i < d.in_dims[k];
    }
    y[o] = inside ? x[in_off] : pad_value;
    if (inside) ++in_off;
    for (int k = d.rank - 1; k >= 0; --k) {
      if (++idx[k] < d.out_dims[k]) break;
      idx[k] = 0;
    }
  }
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (d.elem_bytes == 4) {
    eval_typed(d, node.inputs[0]->as<float>(), node.outputs()[0]->as<float>());
  } else {
    eval_typed(d, node.inputs[0]->as<int8_t>(), node.outputs()[0]->as<int8_t>());
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 PAD is v2 (v3 = 5D, v4 = int16). Types are checked in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    parse, data_bytes, prepare, eval};

}  // namespace pad

namespace padv2 {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    pad::parse, pad::data_bytes, pad::prepare, pad::eval};
}  // namespace padv2

}  // namespace kernels
}  // namespace mf
