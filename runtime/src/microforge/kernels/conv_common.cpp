#include "microforge/kernels/conv_common.h"

#include <float.h>

#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/channel_quant.h"
#include "microforge/kernels/padding.h"
#include "microforge/kernels/quant_math.h"

namespace mf {
namespace kernels {
namespace conv_common {

namespace {

bool scale_ok(float s) { return s > 0.0f && s <= FLT_MAX; }
bool zero_point_ok(int32_t zp) { return zp >= -128 && zp <= 127; }

Status prepare_int8(const Params& p, const Node& node, const Tensor& in, const Tensor& w,
                    const Tensor* bias, const Tensor& out, int channel_dim, OpData* d) {
  if (w.type != DType::kInt8 || out.type != DType::kInt8) return Status::kUnsupportedType;
  if (bias != nullptr && bias->type != DType::kInt32) return Status::kUnsupportedType;
  if (in.num_channels != 1 || out.num_channels != 1 || w.num_channels < 1) {
    return Status::kUnsupportedType;
  }
  if (!scale_ok(in.scale) || !scale_ok(out.scale)) return Status::kKernelError;
  if (!zero_point_ok(in.zero_point) || !zero_point_ok(out.zero_point)) {
    return Status::kKernelError;
  }
  d->input_offset = -in.zero_point;
  d->output_offset = out.zero_point;
  d->per_channel = w.num_channels > 1;
  activation_range_int8(p.activation, out, &d->act_min, &d->act_max);
  const ChannelQuant* plan = d->per_channel ? node.channel_quant : nullptr;
  d->quick = plan != nullptr ? plan->quick : nullptr;
  d->wide = plan != nullptr && channel_dim == 0 ? plan->wide : nullptr;  // CONV_2D's filter
  if (d->per_channel) {
    return channel_requant(node, in, w, out, channel_dim, d->out_d, reinterpret_cast<int32_t*>(d + 1),
                           &d->channel_mult, &d->channel_shift);
  }
  if (w.zero_point != 0 || !scale_ok(w.scale)) return Status::kUnsupportedType;
  const double real =
      static_cast<double>(in.scale) * static_cast<double>(w.scale) / static_cast<double>(out.scale);
  int sh = 0;
  if (!qm::quantize_multiplier(real, &d->multiplier, &sh)) return Status::kKernelError;
  d->shift = sh;  // channel_mult / channel_shift stay null: no pointer into the op data itself
  return Status::kOk;
}

}  // namespace

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

Status prepare(const Params& p, Node& node, int channel_dim, OpData* d) {
  *d = OpData();
  if (node.num_inputs < 2 || node.num_inputs > 3 || node.num_outputs != 1) {
    return Status::kKernelError;
  }
  const Tensor* in = node.inputs[0];
  const Tensor* w = node.inputs[1];
  const Tensor* bias = node.num_inputs == 3 ? node.inputs[2] : nullptr;
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || w == nullptr || out == nullptr) return Status::kKernelError;
  if (in->rank != 4 || w->rank != 4 || out->rank != 4) return Status::kKernelError;
  d->batches = in->dims[0];
  d->in_h = in->dims[1];
  d->in_w = in->dims[2];
  d->in_d = in->dims[3];
  d->f_h = w->dims[1];
  d->f_w = w->dims[2];
  d->out_d = w->dims[channel_dim];
  if (out->dims[0] != d->batches || out->dims[3] != d->out_d || d->in_d < 1 || d->out_d < 1 ||
      d->batches < 1) {
    return Status::kKernelError;
  }
  d->out_h = window_out_size(p.padding, d->in_h, d->f_h, p.stride_h, p.dilation_h);
  d->out_w = window_out_size(p.padding, d->in_w, d->f_w, p.stride_w, p.dilation_w);
  if (d->out_h < 1 || d->out_w < 1 || out->dims[1] != d->out_h || out->dims[2] != d->out_w) {
    return Status::kKernelError;
  }
  d->pad_h = window_padding(d->in_h, d->f_h, p.stride_h, p.dilation_h, d->out_h);
  d->pad_w = window_padding(d->in_w, d->f_w, p.stride_w, p.dilation_w, d->out_w);
  if (bias != nullptr && bias->elements() != d->out_d) return Status::kKernelError;
  if (in->type == DType::kFloat32) {
    if (w->type != DType::kFloat32 || out->type != DType::kFloat32 ||
        (bias != nullptr && bias->type != DType::kFloat32)) {
      return Status::kUnsupportedType;  // hybrid (int8 weights, float io) is not supported
    }
    d->is_float = true;
    activation_range_float(p.activation, &d->f_min, &d->f_max);
    return Status::kOk;
  }
  if (in->type != DType::kInt8) return Status::kUnsupportedType;
  return prepare_int8(p, node, *in, *w, bias, *out, channel_dim, d);
}

}  // namespace conv_common
}  // namespace kernels
}  // namespace mf
