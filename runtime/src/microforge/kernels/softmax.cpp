#include "microforge/kernels/softmax.h"

#include "microforge/kernels/limits.h"

#include <float.h>
#include <math.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/fast/config.h"
#include "microforge/kernels/fixed_point.h"
#include "microforge/kernels/float_math.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace softmax {

namespace {

constexpr int kOptBeta = 0;  // SoftmaxOptions.beta
constexpr int kScaledDiffIntegerBits = 5;   // exp() input is Q5.26
constexpr int kAccumulationIntegerBits = 12;  // sum of exps is Q12.19
constexpr int32_t kMaxDepth = limits::kSoftmaxMaxDepth;

// --- kernel -----------------------------------------------------------------

Status parse(const FbTable& options, void* params) {
  Params* p = static_cast<Params*>(params);
  if (!options.scalar<float>(kOptBeta, 0.0f, &p->beta)) return Status::kBadModel;
  return Status::kOk;
}

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

Status prepare_int8(const Params& p, const Tensor& in, const Tensor& out, OpData* d) {
  if (out.type != DType::kInt8) return Status::kUnsupportedType;  // int16 output: not yet
  if (in.num_channels != 1 || out.num_channels != 1) return Status::kUnsupportedType;
  // TFLM: output zero point -128 and scale 1/256 (within 0.1 %).
  const float kOut = 1.0f / 256.0f;
  if (out.zero_point != -128 || !(out.scale >= kOut - 0.001f * kOut) ||
      !(out.scale <= kOut + 0.001f * kOut)) {
    return Status::kKernelError;
  }
  if (!(in.scale > 0.0f && in.scale <= FLT_MAX) || !(p.beta > 0.0f && p.beta <= FLT_MAX)) {
    return Status::kKernelError;
  }
  if (d->depth > kMaxDepth) return Status::kUnsupportedType;
  // TFLite PreprocessSoftmaxScaling (double rounding build).
  double real = static_cast<double>(p.beta) * static_cast<double>(in.scale) *
                static_cast<double>(1 << (31 - kScaledDiffIntegerBits));
  if (real > 2147483647.0) real = 2147483647.0;
  // QuantizeMultiplierGreaterThanOne requires real > 1; a left shift of 31
  // (beta * scale >= 16) is not supported.
  int shift = 0;
  if (!(real > 1.0) || !qm::quantize_multiplier(real, &d->input_multiplier, &shift)) {
    return Status::kUnsupportedType;
  }
  d->input_left_shift = shift;
  // TFLite CalculateInputRadius: floor(31 * 2^26 / 2^shift), exact in int64.
  const int64_t radius = ((static_cast<int64_t>(1 << kScaledDiffIntegerBits) - 1)
                          << (31 - kScaledDiffIntegerBits)) >> shift;
  d->diff_min = -static_cast<int32_t>(radius);
  return Status::kOk;
}

Status prepare(Node& node) {
  if (node.num_inputs != 1 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr) return Status::kKernelError;
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (in->rank < 1 || in->rank != out->rank) return Status::kKernelError;
  for (int i = 0; i < in->rank; ++i) {
    if (in->dims[i] != out->dims[i]) return Status::kKernelError;
  }
  d->depth = in->dims[in->rank - 1];
  if (d->depth <= 0) return Status::kKernelError;
  d->outer = in->elements() / d->depth;
  if (in->type == DType::kFloat32) {
    if (out->type != DType::kFloat32) return Status::kUnsupportedType;
    d->is_float = true;
    d->beta = p.beta;
    return Status::kOk;
  }
  if (in->type != DType::kInt8) return Status::kUnsupportedType;
  return prepare_int8(p, *in, *out, d);
}

int32_t rescaled_diff(const OpData& d, int32_t diff) {
  // MultiplyByQuantizedMultiplierGreaterThanOne; |diff| << shift < 2^31 here.
  return fp::mul(static_cast<int32_t>(static_cast<uint32_t>(diff) << d.input_left_shift),
             d.input_multiplier);
}

void eval_int8(const OpData& d, const int8_t* x, int8_t* y) {
  for (int32_t r = 0; r < d.outer; ++r) {
    const int8_t* xr = x + r * d.depth;
    int8_t* yr = y + r * d.depth;
    int32_t max = -128;
    for (int32_t c = 0; c < d.depth; ++c) max = xr[c] > max ? xr[c] : max;
    int32_t sum = 0;  // Q12.19
    for (int32_t c = 0; c < d.depth; ++c) {
      const int32_t diff = xr[c] - max;
      if (diff >= d.diff_min) {
        const int32_t e = fp::exp_negative<kScaledDiffIntegerBits>(rescaled_diff(d, diff));
        sum = fp::add(sum, qm::rounding_divide_by_pot(e, kAccumulationIntegerBits));
      }
    }
    // GetReciprocal: sum = (1 + f) * 2^bits_over_unit, scale = 1 / (1 + f).
    const int headroom_plus_one = __builtin_clz(static_cast<uint32_t>(sum));
    const int bits_over_unit = kAccumulationIntegerBits - headroom_plus_one;
    const int32_t shifted_sum_minus_one = static_cast<int32_t>(
        (static_cast<uint32_t>(sum) << headroom_plus_one) - (1u << 31));
    const int32_t scale = fp::one_over_one_plus(shifted_sum_minus_one);
    for (int32_t c = 0; c < d.depth; ++c) {
      const int32_t diff = xr[c] - max;
      int32_t out = -128;
      if (diff >= d.diff_min) {
        const int32_t e = fp::exp_negative<kScaledDiffIntegerBits>(rescaled_diff(d, diff));
        out = qm::rounding_divide_by_pot(fp::mul(scale, e), bits_over_unit + 31 - 8) - 128;
        out = qm::clamp(out, -128, 127);
      }
      yr[c] = static_cast<int8_t>(out);
    }
  }
}

void eval_float(const OpData& d, const float* x, float* y) {
  for (int32_t r = 0; r < d.outer; ++r) {
    const float* xr = x + r * d.depth;
    float* yr = y + r * d.depth;
    float max = -FLT_MAX;
    for (int32_t c = 0; c < d.depth; ++c) max = (max < xr[c]) ? xr[c] : max;  // std::max
    float sum = 0.0f;
    for (int32_t c = 0; c < d.depth; ++c) {
      const float e = fmath::exp_f32((xr[c] - max) * d.beta);
      yr[c] = e;
      sum += e;
    }
    for (int32_t c = 0; c < d.depth; ++c) yr[c] = yr[c] / sum;
  }
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (d.is_float) {
    if (!MF_FLOAT_KERNELS) return Status::kUnsupportedType;  // built with MF_MODEL_NO_FLOAT
    eval_float(d, node.inputs[0]->as<float>(), node.outputs()[0]->as<float>());
  } else {
    eval_int8(d, node.inputs[0]->as<int8_t>(), node.outputs()[0]->as<int8_t>());
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 SOFTMAX is v2 (v3 = int16). Types are checked in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    parse, data_bytes, prepare, eval};

// For nodes whose params and op data the generator's plan carries (MemoryPlan::planned_ops):
// eval only, so a firmware that names it links none of the parsing and prepare code.
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                               nullptr, nullptr, nullptr, eval};

}  // namespace softmax
}  // namespace kernels
}  // namespace mf
