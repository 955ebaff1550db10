#include "microforge/kernels/depthwise_conv_2d.h"

#include "microforge/flatbuffer.h"
#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/fast/fast_int8.h"
#include "microforge/kernels/padding.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace depthwise_conv_2d {

namespace {

using conv_common::OpData;
using conv_common::Params;

// DepthwiseConv2DOptions field ids.
constexpr int kOptPadding = 0, kOptStrideW = 1, kOptStrideH = 2, kOptDepthMultiplier = 3,
              kOptActivation = 4, kOptDilationW = 5, kOptDilationH = 6;

Status parse(const FbTable& options, void* params) {
  Params* p = static_cast<Params*>(params);
  *p = Params();
  int8_t act = 0;
  if (!options.scalar<int8_t>(kOptPadding, 0, &p->padding) ||
      !options.scalar<int32_t>(kOptStrideW, 0, &p->stride_w) ||
      !options.scalar<int32_t>(kOptStrideH, 0, &p->stride_h) ||
      !options.scalar<int32_t>(kOptDepthMultiplier, 0, &p->depth_multiplier) ||
      !options.scalar<int8_t>(kOptActivation, 0, &act) ||
      !options.scalar<int32_t>(kOptDilationW, 1, &p->dilation_w) ||
      !options.scalar<int32_t>(kOptDilationH, 1, &p->dilation_h)) {
    return Status::kBadModel;
  }
  if (!activation_supported(act)) return Status::kUnsupportedType;
  if (p->padding != kPaddingSame && p->padding != kPaddingValid) return Status::kUnsupportedType;
  if (p->stride_w < 1 || p->stride_h < 1 || p->dilation_w < 1 || p->dilation_h < 1 ||
      p->depth_multiplier < 1) {
    return Status::kBadModel;
  }
  p->activation = static_cast<uint8_t>(act);
  return Status::kOk;
}

Status prepare(Node& node) {
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  const Status s = conv_common::prepare(p, node, 3, d);
  if (s != Status::kOk) return s;
  if (node.inputs[1]->dims[0] != 1 ||
      static_cast<int64_t>(d->in_d) * p.depth_multiplier != d->out_d) {
    return Status::kKernelError;
  }
#if !MF_DEPTHWISE_REFERENCE
  if (!d->is_float && !fast::depthwise_conv_2d_covers(*d, p)) return Status::kUnsupportedType;  // fast/config.h
#endif
  return Status::kOk;
}

void eval_float(const OpData& d, const Params& p, const float* x, const float* w,
                const float* bias, float* y) {
  const int32_t in_row = d.in_w * d.in_d, in_img = d.in_h * in_row;
  const int32_t f_row = d.f_w * d.out_d;
  for (int32_t b = 0; b < d.batches; ++b) {
    const float* xb = x + b * in_img;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      const int32_t y0 = oy * p.stride_h - d.pad_h;
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        const int32_t x0 = ox * p.stride_w - d.pad_w;
        for (int32_t oc = 0; oc < d.out_d; ++oc) {
          const int32_t ic = oc / p.depth_multiplier;
          float total = 0.0f;  // summed in the reference's order: rows, then columns
          for (int32_t fy = 0; fy < d.f_h; ++fy) {
            const int32_t iy = y0 + fy * p.dilation_h;
            if (iy < 0 || iy >= d.in_h) continue;
            for (int32_t fx = 0; fx < d.f_w; ++fx) {
              const int32_t ix = x0 + fx * p.dilation_w;
              if (ix < 0 || ix >= d.in_w) continue;
              total += xb[iy * in_row + ix * d.in_d + ic] * w[fy * f_row + fx * d.out_d + oc];
            }
          }
          *y++ = clamp_float(total + (bias != nullptr ? bias[oc] : 0.0f), d.f_min, d.f_max);
        }
      }
    }
  }
}

// False when neither the fast path nor a compiled reference loop covers the node.
bool eval_int8(const OpData& d, const Params& p, const int8_t* x, const int8_t* w,
               const int32_t* bias, int8_t* y) {
#if MF_FAST_KERNELS
  if (fast::depthwise_conv_2d(d, p, x, w, bias, y)) return true;
#endif
#if MF_DEPTHWISE_REFERENCE
  const int32_t in_row = d.in_w * d.in_d, in_img = d.in_h * in_row;
  const int32_t f_row = d.f_w * d.out_d;
  const int32_t* mult = d.channel_mult;
  const int32_t* shift = d.channel_shift;
  for (int32_t b = 0; b < d.batches; ++b) {
    const int8_t* xb = x + b * in_img;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      const int32_t y0 = oy * p.stride_h - d.pad_h;
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        const int32_t x0 = ox * p.stride_w - d.pad_w;
        for (int32_t oc = 0; oc < d.out_d; ++oc) {
          const int32_t ic = oc / p.depth_multiplier;
          // Sums wrap like the reference's int32 arithmetic does on every target.
          uint32_t sum = 0;
          for (int32_t fy = 0; fy < d.f_h; ++fy) {
            const int32_t iy = y0 + fy * p.dilation_h;
            if (iy < 0 || iy >= d.in_h) continue;
            for (int32_t fx = 0; fx < d.f_w; ++fx) {
              const int32_t ix = x0 + fx * p.dilation_w;
              if (ix < 0 || ix >= d.in_w) continue;
              const int32_t xv = static_cast<int32_t>(xb[iy * in_row + ix * d.in_d + ic]);
              const int32_t wv = static_cast<int32_t>(w[fy * f_row + fx * d.out_d + oc]);
              sum += static_cast<uint32_t>(wv * (xv + d.input_offset));
            }
          }
          if (bias != nullptr) sum += static_cast<uint32_t>(bias[oc]);
          *y++ = conv_common::requantize(d, mult, shift, oc, static_cast<int32_t>(sum));
        }
      }
    }
  }
#endif  // MF_DEPTHWISE_REFERENCE
  return MF_DEPTHWISE_REFERENCE != 0;
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  const Params& p = *static_cast<const Params*>(node.params);
  const Tensor* bias = node.num_inputs == 3 ? node.inputs[2] : nullptr;
  if (d.is_float) {
    if (!MF_FLOAT_KERNELS) return Status::kUnsupportedType;  // built with MF_MODEL_NO_FLOAT
    eval_float(d, p, node.inputs[0]->as<float>(), node.inputs[1]->as<float>(),
               bias != nullptr ? bias->as<float>() : nullptr, node.outputs()[0]->as<float>());
  } else if (!eval_int8(d, p, node.inputs[0]->as<int8_t>(), node.inputs[1]->as<int8_t>(),
                         bias != nullptr ? bias->as<int32_t>() : nullptr,
                         node.outputs()[0]->as<int8_t>())) {
    return Status::kUnsupportedType;  // the generator's plan skipped prepare's check
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions. TFLite's converter marks float DEPTHWISE_CONV_2D v1,
// dilation v2, int8 v3 (per-channel) and newer features v4-v7 (hybrid, int16,
// int4); we accept 1-7 as the generator's table does (ops.py) and reject in
// prepare the types we do not implement.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    parse, conv_common::data_bytes, prepare, eval};

// For nodes whose params and op data the generator's plan carries (MemoryPlan::planned_ops):
// eval only, so a firmware that names it links none of the parsing and prepare code.
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                               nullptr, nullptr, nullptr, eval};

}  // namespace depthwise_conv_2d
}  // namespace kernels
}  // namespace mf
