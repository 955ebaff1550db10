#include "microforge/kernels/pool_common.h"

#include <float.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/padding.h"

namespace mf {
namespace kernels {
namespace pool_common {

namespace {

// Pool2DOptions field ids.
constexpr int kOptPadding = 0, kOptStrideW = 1, kOptStrideH = 2, kOptFilterW = 3,
              kOptFilterH = 4, kOptActivation = 5;

}  // namespace

Status parse(const FbTable& options, void* params) {
  Params* p = static_cast<Params*>(params);
  *p = Params();
  int8_t act = 0;
  if (!options.scalar<int8_t>(kOptPadding, 0, &p->padding) ||
      !options.scalar<int32_t>(kOptStrideW, 0, &p->stride_w) ||
      !options.scalar<int32_t>(kOptStrideH, 0, &p->stride_h) ||
      !options.scalar<int32_t>(kOptFilterW, 0, &p->filter_w) ||
      !options.scalar<int32_t>(kOptFilterH, 0, &p->filter_h) ||
      !options.scalar<int8_t>(kOptActivation, 0, &act)) {
    return Status::kBadModel;
  }
  if (!activation_supported(act)) return Status::kUnsupportedType;
  if (p->padding != kPaddingSame && p->padding != kPaddingValid) return Status::kUnsupportedType;
  if (p->stride_w < 1 || p->stride_h < 1 || p->filter_w < 1 || p->filter_h < 1) {
    return Status::kBadModel;
  }
  p->activation = static_cast<uint8_t>(act);
  return Status::kOk;
}

size_t data_bytes(int32_t /*channels*/) { return sizeof(OpData); }

Status prepare(Node& node) {
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (node.num_inputs != 1 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr || in->rank != 4 || out->rank != 4) {
    return Status::kKernelError;
  }
  d->batches = in->dims[0];
  d->in_h = in->dims[1];
  d->in_w = in->dims[2];
  d->depth = in->dims[3];
  d->out_h = window_out_size(p.padding, d->in_h, p.filter_h, p.stride_h, 1);
  d->out_w = window_out_size(p.padding, d->in_w, p.filter_w, p.stride_w, 1);
  if (d->out_h < 1 || d->out_w < 1 || out->dims[0] != d->batches || out->dims[1] != d->out_h ||
      out->dims[2] != d->out_w || out->dims[3] != d->depth || d->depth < 1 || d->batches < 1) {
    return Status::kKernelError;
  }
  // Every window then overlaps the input (count >= 1, no division by zero).
  d->pad_h = window_padding(d->in_h, p.filter_h, p.stride_h, 1, d->out_h);
  d->pad_w = window_padding(d->in_w, p.filter_w, p.stride_w, 1, d->out_w);
  if (in->type != out->type) return Status::kUnsupportedType;
  if (in->type == DType::kFloat32) {
    d->is_float = true;
    activation_range_float(p.activation, &d->f_min, &d->f_max);
    return Status::kOk;
  }
  if (in->type != DType::kInt8) return Status::kUnsupportedType;
  if (out->num_channels != 1 || !(out->scale > 0.0f && out->scale <= FLT_MAX)) {
    return Status::kUnsupportedType;
  }
  // int8 window sums must not overflow int32.
  if (static_cast<int64_t>(p.filter_h) * p.filter_w > (1 << 23)) return Status::kUnsupportedType;
  activation_range_int8(p.activation, *out, &d->act_min, &d->act_max);
  return Status::kOk;
}

}  // namespace pool_common
}  // namespace kernels
}  // namespace mf
