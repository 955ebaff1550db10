#include "microforge/kernels/conv_2d.h"

#include "microforge/flatbuffer.h"
#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/fast/fast_int8.h"
#include "microforge/kernels/padding.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace conv_2d {

namespace {

using conv_common::OpData;
using conv_common::Params;

// Conv2DOptions field ids.
constexpr int kOptPadding = 0, kOptStrideW = 1, kOptStrideH = 2, kOptActivation = 3,
              kOptDilationW = 4, kOptDilationH = 5;

Status parse(const FbTable& options, void* params) {
  Params* p = static_cast<Params*>(params);
  *p = Params();
  int8_t act = 0;
  if (!options.scalar<int8_t>(kOptPadding, 0, &p->padding) ||
      !options.scalar<int32_t>(kOptStrideW, 0, &p->stride_w) ||
      !options.scalar<int32_t>(kOptStrideH, 0, &p->stride_h) ||
      !options.scalar<int8_t>(kOptActivation, 0, &act) ||
      !options.scalar<int32_t>(kOptDilationW, 1, &p->dilation_w) ||
      !options.scalar<int32_t>(kOptDilationH, 1, &p->dilation_h)) {
    return Status::kBadModel;
  }
  if (!activation_supported(act)) return Status::kUnsupportedType;
  if (p->padding != kPaddingSame && p->padding != kPaddingValid) return Status::kUnsupportedType;
  if (p->stride_w < 1 || p->stride_h < 1 || p->dilation_w < 1 || p->dilation_h < 1) {
    return Status::kBadModel;
  }
  p->activation = static_cast<uint8_t>(act);
  return Status::kOk;
}

Status prepare(Node& node) {
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  const Status s = conv_common::prepare(p, node, 0, d);
  if (s != Status::kOk) return s;
  // Grouped convolutions (filter depth < input depth) are not supported.
  if (node.inputs[1]->dims[3] != d->in_d) return Status::kUnsupportedType;
#if !MF_CONV_REFERENCE
  if (!d->is_float && !fast::conv_2d_covers(*d, p)) return Status::kUnsupportedType;  // fast/config.h
#endif
  return Status::kOk;
}

void eval_float(const OpData& d, const Params& p, const float* x, const float* w,
                const float* bias, float* y) {
  const int32_t in_row = d.in_w * d.in_d, in_img = d.in_h * in_row;
  const int32_t f_row = d.f_w * d.in_d, f_out = d.f_h * f_row;
  for (int32_t b = 0; b < d.batches; ++b) {
    const float* xb = x + b * in_img;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      const int32_t y0 = oy * p.stride_h - d.pad_h;
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        const int32_t x0 = ox * p.stride_w - d.pad_w;
        for (int32_t oc = 0; oc < d.out_d; ++oc) {
          const float* wc = w + oc * f_out;
          float total = 0.0f;  // summed in the reference's order: rows, columns, depth
          for (int32_t fy = 0; fy < d.f_h; ++fy) {
            const int32_t iy = y0 + fy * p.dilation_h;
            if (iy < 0 || iy >= d.in_h) continue;
            for (int32_t fx = 0; fx < d.f_w; ++fx) {
              const int32_t ix = x0 + fx * p.dilation_w;
              if (ix < 0 || ix >= d.in_w) continue;
              const float* xp = xb + iy * in_row + ix * d.in_d;
              const float* wp = wc + fy * f_row + fx * d.in_d;
              for (int32_t c = 0; c < d.in_d; ++c) total += xp[c] * wp[c];
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
  if (fast::conv_2d(d, p, x, w, bias, y)) return true;
#endif
#if MF_CONV_REFERENCE
  const int32_t in_row = d.in_w * d.in_d, in_img = d.in_h * in_row;
  const int32_t f_row = d.f_w * d.in_d, f_out = d.f_h * f_row;
  const int32_t* mult = d.channel_mult;
  const int32_t* shift = d.channel_shift;
  for (int32_t b = 0; b < d.batches; ++b) {
    const int8_t* xb = x + b * in_img;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      const int32_t y0 = oy * p.stride_h - d.pad_h;
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        const int32_t x0 = ox * p.stride_w - d.pad_w;
        for (int32_t oc = 0; oc < d.out_d; ++oc) {
          const int8_t* wc = w + oc * f_out;
          // Sums wrap like the reference's int32 arithmetic does on every target.
          uint32_t sum = 0;
          for (int32_t fy = 0; fy < d.f_h; ++fy) {
            const int32_t iy = y0 + fy * p.dilation_h;
            if (iy < 0 || iy >= d.in_h) continue;
            for (int32_t fx = 0; fx < d.f_w; ++fx) {
              const int32_t ix = x0 + fx * p.dilation_w;
              if (ix < 0 || ix >= d.in_w) continue;
              const int8_t* xp = xb + iy * in_row + ix * d.in_d;
              const int8_t* wp = wc + fy * f_row + fx * d.in_d;
              for (int32_t c = 0; c < d.in_d; ++c) {
                sum += static_cast<uint32_t>(static_cast<int32_t>(wp[c]) *
                                             (static_cast<int32_t>(xp[c]) + d.input_offset));
              }
            }
          }
          if (bias != nullptr) sum += static_cast<uint32_t>(bias[oc]);
          *y++ = conv_common::requantize(d, mult, shift, oc, static_cast<int32_t>(sum));
        }
      }
    }
  }
#endif  // MF_CONV_REFERENCE
  return MF_CONV_REFERENCE != 0;
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

const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    parse, conv_common::data_bytes, prepare, eval};

// For nodes whose params and op data the generator's plan carries (MemoryPlan::planned_ops):
// eval only, so a firmware that names it links none of the parsing and prepare code.
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                               nullptr, nullptr, nullptr, eval};

}  // namespace conv_2d
}  // namespace kernels
}  // namespace mf
