#include "microforge/kernels/fully_connected.h"

#include <float.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/channel_quant.h"
#include "microforge/kernels/fast/fast_int8.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace fully_connected {

namespace {

// FullyConnectedOptions field ids.
constexpr int kOptActivation = 0, kOptWeightsFormat = 1, kOptKeepNumDims = 2;

Status parse(const FbTable& options, void* params) {
  Params* p = static_cast<Params*>(params);
  int8_t act = 0, format = 0;
  uint8_t keep = 0;
  if (!options.scalar<int8_t>(kOptActivation, 0, &act) ||
      !options.scalar<int8_t>(kOptWeightsFormat, 0, &format) ||
      !options.scalar<uint8_t>(kOptKeepNumDims, 0, &keep)) {
    return Status::kBadModel;
  }
  if (!activation_supported(act) || format != 0) return Status::kUnsupportedType;
  p->activation = static_cast<uint8_t>(act);
  p->keep_num_dims = keep != 0;
  return Status::kOk;
}

size_t data_bytes(int32_t out_channels) { return op_data_bytes(out_channels); }

bool scale_ok(float s) { return s > 0.0f && s <= FLT_MAX; }

Status prepare_int8(const Params& p, const Node& node, const Tensor& in, const Tensor& w,
                    const Tensor* bias, const Tensor& out, OpData* d) {
  if (w.type != DType::kInt8 || out.type != DType::kInt8) return Status::kUnsupportedType;
  if (bias != nullptr && bias->type != DType::kInt32) return Status::kUnsupportedType;
  if (in.num_channels != 1 || out.num_channels != 1 || w.num_channels < 1) {
    return Status::kUnsupportedType;
  }
  if (!scale_ok(in.scale) || !scale_ok(out.scale)) return Status::kKernelError;
  d->input_offset = -in.zero_point;
  d->output_offset = out.zero_point;
  if (in.zero_point < -128 || in.zero_point > 127 || out.zero_point < -128 ||
      out.zero_point > 127) {
    return Status::kKernelError;
  }
  d->per_channel = w.num_channels > 1;
  activation_range_int8(p.activation, out, &d->act_min, &d->act_max);
  if (d->per_channel) {
    return channel_requant(node, in, w, out, 0, d->out_depth, reinterpret_cast<int32_t*>(d + 1),
                           &d->channel_mult, &d->channel_shift);
  }
  if (w.zero_point != 0 || !scale_ok(w.scale)) return Status::kUnsupportedType;
  const double product = static_cast<double>(in.scale) * static_cast<double>(w.scale);
  if (bias != nullptr) {  // TFLM's GetQuantizedConvolutionMultipler check
    const double bs = static_cast<double>(bias->scale);
    const double diff = product > bs ? product - bs : bs - product;
    if (diff > 1e-6 * (product < bs ? product : bs)) return Status::kKernelError;
  }
  int sh = 0;
  if (!qm::quantize_multiplier(product / static_cast<double>(out.scale), &d->multiplier, &sh)) {
    return Status::kKernelError;
  }
  d->shift = sh;  // channel_mult / channel_shift stay null: no pointer into the op data itself
  return Status::kOk;
}

Status prepare(Node& node) {
  if (node.num_inputs < 2 || node.num_inputs > 3 || node.num_outputs != 1) {
    return Status::kKernelError;
  }
  const Tensor* in = node.inputs[0];
  const Tensor* w = node.inputs[1];
  const Tensor* bias = node.num_inputs == 3 ? node.inputs[2] : nullptr;
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || w == nullptr || out == nullptr) return Status::kKernelError;
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (w->rank != 2 || out->rank < 1) return Status::kKernelError;
  d->out_depth = w->dims[0];
  d->accum_depth = w->dims[1];
  if (d->out_depth <= 0 || d->accum_depth <= 0) return Status::kKernelError;
  // op_data was sized for the output's last dimension: the filter must agree.
  if (out->dims[out->rank - 1] != d->out_depth) return Status::kKernelError;
  d->batches = out->elements() / d->out_depth;
  if (static_cast<int64_t>(d->batches) * d->accum_depth != in->elements()) {
    return Status::kKernelError;
  }
  if (p.keep_num_dims && out->rank != in->rank) return Status::kKernelError;
  if (bias != nullptr && bias->elements() != d->out_depth) return Status::kKernelError;
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
#if !MF_FC_REFERENCE
  if (!fast::fully_connected_covers(*d)) return Status::kUnsupportedType;  // fast/config.h
#endif
  return prepare_int8(p, node, *in, *w, bias, *out, d);
}

void eval_float(const OpData& d, const float* x, const float* w, const float* bias, float* y) {
  for (int32_t b = 0; b < d.batches; ++b) {
    const float* xb = x + b * d.accum_depth;
    for (int32_t c = 0; c < d.out_depth; ++c) {
      const float* wc = w + c * d.accum_depth;
      float total = 0.0f;
      for (int32_t k = 0; k < d.accum_depth; ++k) total += xb[k] * wc[k];
      float v = total + (bias != nullptr ? bias[c] : 0.0f);
      y[b * d.out_depth + c] = clamp_float(v, d.f_min, d.f_max);
    }
  }
}

// False when neither the fast path nor a compiled reference loop covers the node.
bool eval_int8(const OpData& d, const int8_t* x, const int8_t* w, const int32_t* bias,
               int8_t* y, const uint32_t* wide) {
#if MF_FAST_KERNELS
  if (fast::fully_connected(d, x, w, bias, y, wide)) return true;
#else
  (void)wide;
#endif
#if MF_FC_REFERENCE
  const int32_t* mult = d.channel_mult;
  const int32_t* shift = d.channel_shift;
  for (int32_t b = 0; b < d.batches; ++b) {
    const int8_t* xb = x + b * d.accum_depth;
    for (int32_t c = 0; c < d.out_depth; ++c) {
      const int8_t* wc = w + c * d.accum_depth;
      // Sums wrap like the reference's int32 arithmetic does on every target.
      uint32_t sum = 0;
      for (int32_t k = 0; k < d.accum_depth; ++k) {
        sum += static_cast<uint32_t>(static_cast<int32_t>(wc[k]) *
                                     (static_cast<int32_t>(xb[k]) + d.input_offset));
      }
      if (bias != nullptr) sum += static_cast<uint32_t>(bias[c]);
      int32_t acc = static_cast<int32_t>(sum);
      acc = d.per_channel ? qm::multiply_by_quantized_multiplier(acc, mult[c], shift[c])
                          : qm::multiply_by_quantized_multiplier(acc, d.multiplier, d.shift);
      acc = qm::clamp(qm::wrap_add(acc, d.output_offset), d.act_min, d.act_max);
      y[b * d.out_depth + c] = static_cast<int8_t>(acc);
    }
  }
#endif  // MF_FC_REFERENCE
  return MF_FC_REFERENCE != 0;
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  const Tensor* bias = node.num_inputs == 3 ? node.inputs[2] : nullptr;
  if (d.is_float) {
    if (!MF_FLOAT_KERNELS) return Status::kUnsupportedType;  // built with MF_MODEL_NO_FLOAT
    eval_float(d, node.inputs[0]->as<float>(), node.inputs[1]->as<float>(),
               bias != nullptr ? bias->as<float>() : nullptr, node.outputs()[0]->as<float>());
  } else if (!eval_int8(d, node.inputs[0]->as<int8_t>(), node.inputs[1]->as<int8_t>(),
                         bias != nullptr ? bias->as<int32_t>() : nullptr,
                         node.outputs()[0]->as<int8_t>(),
                         node.channel_quant != nullptr ? node.channel_quant->wide : nullptr)) {
    return Status::kUnsupportedType;  // the generator's plan skipped prepare's check
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions. The converter marks the int8 / float FCs we run as
// v1, v4 (int8), v5 (keep_num_dims) or v6 (no bias); 1-9 as in the generator's
// table (ops.py). Types a version may bring are checked in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    parse, data_bytes, prepare, eval};

// For nodes whose params and op data the generator's plan carries (MemoryPlan::planned_ops):
// eval only, so a firmware that names it links none of the parsing and prepare code.
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                               nullptr, nullptr, nullptr, eval};

}  // namespace fully_connected
}  // namespace kernels
}  // namespace mf
