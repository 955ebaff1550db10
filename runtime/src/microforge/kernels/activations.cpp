#include "microforge/kernels/activations.h"

#include <float.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace activations {

namespace {

constexpr int kOptAlpha = 0;  // LeakyReluOptions.alpha
enum class Kind : uint8_t { kRelu, kRelu6, kLeaky };

Status parse_none(const FbTable& /*options*/, void* params) {
  static_cast<Params*>(params)->alpha = 0.0f;
  return Status::kOk;
}

Status parse_leaky(const FbTable& options, void* params) {
  float alpha = 0.0f;
  if (!options.scalar<float>(kOptAlpha, 0.0f, &alpha)) return Status::kBadModel;
  static_cast<Params*>(params)->alpha = alpha;
  return Status::kOk;
}

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

bool scale_ok(float s) { return s > 0.0f && s <= FLT_MAX; }

bool multiplier(double real, int32_t* m, int32_t* shift) {
  int sh = 0;
  if (!qm::quantize_multiplier(real, m, &sh)) return false;
  *shift = sh;
  return true;
}

// zero point + round(x / scale) as TFLite's ReLU op data computes it (roundf, int32).
int32_t quantized(float x, const Tensor& out) {
  const int64_t q = static_cast<int64_t>(out.zero_point) + qm::round_to_int32(x / out.scale);
  return static_cast<int32_t>(q > INT32_MAX ? INT32_MAX : q);
}

Status prepare_int8(Kind kind, float alpha, const Tensor& in, const Tensor& out, OpData* d) {
  if (out.type != DType::kInt8 || in.num_channels != 1 || out.num_channels != 1) {
    return Status::kUnsupportedType;
  }
  if (!scale_ok(in.scale) || !scale_ok(out.scale) || in.zero_point < -128 || in.zero_point > 127 ||
      out.zero_point < -128 || out.zero_point > 127) {
    return Status::kKernelError;
  }
  d->input_zero_point = in.zero_point;
  d->output_zero_point = out.zero_point;
  d->act_min = -128;
  d->act_max = 127;
  if (kind == Kind::kLeaky) {
    // TFLM leaky_relu_common.cc: the products and quotients are taken in float.
    const double identity = static_cast<double>(in.scale / out.scale);
    const double with_alpha = static_cast<double>(in.scale * alpha / out.scale);
    if (!(alpha >= 0.0f) || !multiplier(identity, &d->multiplier, &d->shift) ||
        !multiplier(with_alpha, &d->alpha_multiplier, &d->alpha_shift)) {
      return Status::kUnsupportedType;
    }
    return Status::kOk;
  }
  const double real = static_cast<double>(in.scale) / static_cast<double>(out.scale);
  if (!multiplier(real, &d->multiplier, &d->shift)) return Status::kKernelError;
  const int32_t zero = quantized(0.0f, out);
  d->act_min = zero > -128 ? zero : -128;
  if (kind == Kind::kRelu6) {
    const int32_t six = quantized(6.0f, out);
    d->act_max = six < 127 ? six : 127;
  }
  return Status::kOk;
}

Status prepare(Kind kind, Node& node) {
  if (node.num_inputs != 1 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr) return Status::kKernelError;
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (in->elements() != out->elements()) return Status::kKernelError;
  d->size = in->elements();
  d->alpha = static_cast<const Params*>(node.params)->alpha;
  if (in->type == DType::kFloat32) {
    if (out->type != DType::kFloat32) return Status::kUnsupportedType;
    d->is_float = true;
    return Status::kOk;
  }
  if (in->type != DType::kInt8) return Status::kUnsupportedType;
  return prepare_int8(kind, d->alpha, *in, *out, d);
}

template <Kind kKind> void eval_float(const OpData& d, const float* x, float* y) {
  for (int32_t i = 0; i < d.size; ++i) {
    const float v = x[i];
    if (kKind == Kind::kRelu) y[i] = v < 0.0f ? 0.0f : v;
    if (kKind == Kind::kRelu6) y[i] = v > 6.0f ? 6.0f : (v < 0.0f ? 0.0f : v);
    if (kKind == Kind::kLeaky) y[i] = v > 0.0f ? v : v * d.alpha;
  }
}

template <Kind kKind> void eval_int8(const OpData& d, const int8_t* x, int8_t* y) {
  for (int32_t i = 0; i < d.size; ++i) {
    const int32_t v = x[i] - d.input_zero_point;
    const bool negative_slope = kKind == Kind::kLeaky && v < 0;
    const int32_t r = qm::multiply_by_quantized_multiplier(
        v, negative_slope ? d.alpha_multiplier : d.multiplier,
        negative_slope ? d.alpha_shift : d.shift);
    y[i] = static_cast<int8_t>(qm::clamp(d.output_zero_point + r, d.act_min, d.act_max));
  }
}

template <Kind kKind> Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (d.is_float) {
    eval_float<kKind>(d, node.inputs[0]->as<float>(), node.outputs()[0]->as<float>());
  } else {
    eval_int8<kKind>(d, node.inputs[0]->as<int8_t>(), node.outputs()[0]->as<int8_t>());
  }
  return Status::kOk;
}

Status prepare_relu(Node& node) { return prepare(Kind::kRelu, node); }
Status prepare_relu6(Node& node) { return prepare(Kind::kRelu6, node); }
Status prepare_leaky(Node& node) { return prepare(Kind::kLeaky, node); }

}  // namespace
}  // namespace activations

// TFLM ignores op versions; int8 is v2 of each (v3 = int16). Types are checked in prepare.
namespace act = activations;
namespace relu {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(act::Params),
                                    act::parse_none, act::data_bytes, act::prepare_relu, act::eval<act::Kind::kRelu>};
}  // namespace relu
namespace relu6 {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(act::Params),
                                    act::parse_none, act::data_bytes, act::prepare_relu6, act::eval<act::Kind::kRelu6>};
}  // namespace relu6
namespace leaky_relu {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(act::Params),
                                    act::parse_leaky, act::data_bytes, act::prepare_leaky, act::eval<act::Kind::kLeaky>};
}  // namespace leaky_relu

}  // namespace kernels
}  // namespace mf
