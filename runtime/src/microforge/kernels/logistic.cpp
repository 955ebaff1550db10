#include "microforge/kernels/logistic.h"

#include <float.h>
#include <math.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/fixed_point.h"
#include "microforge/kernels/float_math.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace sigmoid_common {

namespace {

constexpr int kInputIntegerBits = 4;  // the fixed-point input is Q4.27
enum class Kind : uint8_t { kLogistic, kTanh };

Status parse(const FbTable& /*options*/, void* /*params*/) { return Status::kOk; }

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

bool near(float s, float want) { return s >= want - 0.001f * want && s <= want + 0.001f * want; }

Status prepare_int8(Kind kind, const Tensor& in, const Tensor& out, OpData* d) {
  if (out.type != DType::kInt8 || in.num_channels != 1 || out.num_channels != 1) {
    return Status::kUnsupportedType;
  }
  const bool out_ok = kind == Kind::kLogistic ? out.zero_point == -128 && near(out.scale, 1.0f / 256)
                                              : out.zero_point == 0 && near(out.scale, 1.0f / 128);
  if (!out_ok || !(in.scale > 0.0f && in.scale <= FLT_MAX) || in.zero_point < -128 ||
      in.zero_point > 127) {
    return Status::kKernelError;
  }
  d->input_zero_point = in.zero_point;
  // TFLM: frexp of scale * 2^27, multiplier = round(q * 2^31), shift = exponent.
  const double real = static_cast<double>(in.scale) * static_cast<double>(1 << (31 - kInputIntegerBits));
  int e = 0;
  const double q = qm::frexp_pos(real, &e);
  const int64_t m = static_cast<int64_t>(q * 2147483648.0 + 0.5);
  // A shift outside [0, 30] (input scale below 2^-27 or above 8) is not supported.
  if (m >= (1ll << 31) || e < 0 || e > 30) return Status::kUnsupportedType;
  d->input_multiplier = static_cast<int32_t>(m);
  d->input_shift = e;
  // CalculateInputRadius: floor(15 * 2^27 / 2^shift).
  d->input_range_radius = static_cast<int32_t>(
      ((static_cast<int64_t>(1 << kInputIntegerBits) - 1) << (31 - kInputIntegerBits)) >> e);
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
  if (in->type == DType::kFloat32) {
    if (out->type != DType::kFloat32) return Status::kUnsupportedType;
    d->is_float = true;
    return Status::kOk;
  }
  if (in->type != DType::kInt8) return Status::kUnsupportedType;
  return prepare_int8(kind, *in, *out, d);
}

// gemmlowp logistic on Q4.27, result Q0.31.
int32_t logistic_q4(int32_t a) {
  if (a == 0) return 1 << 30;  // one half
  const int32_t abs_a = a > 0 ? a : -a;
  const int32_t positive = fp::one_over_one_plus(fp::exp_negative<kInputIntegerBits>(-abs_a));
  return a > 0 ? positive : fp::sub(INT32_MAX, positive);
}

// gemmlowp tanh on Q4.27, result Q0.31: (1 - e^(2n)) / (1 + e^(2n)) for n = -|a|,
// where 2n is n read as Q5.26.
int32_t tanh_q4(int32_t a) {
  if (a == 0) return 0;
  const int32_t n = a < 0 ? a : -a;
  const int32_t t = fp::one_minus_over_one_plus(fp::exp_negative<kInputIntegerBits + 1>(n));
  return a < 0 ? -t : t;
}

template <Kind kKind> void eval_int8(const OpData& d, const int8_t* x, int8_t* y) {
  for (int32_t i = 0; i < d.size; ++i) {
    const int32_t v = x[i] - d.input_zero_point;
    if (v <= -d.input_range_radius) {
      y[i] = -128;
    } else if (v >= d.input_range_radius) {
      y[i] = 127;
    } else {
      const int32_t q4 = qm::multiply_by_quantized_multiplier(v, d.input_multiplier, d.input_shift);
      int32_t r;
      if (kKind == Kind::kLogistic) {
        r = qm::rounding_divide_by_pot(logistic_q4(q4), 31 - 8) - 128;
      } else {
        r = qm::rounding_divide_by_pot(tanh_q4(q4), 31 - 7);
      }
      y[i] = static_cast<int8_t>(qm::clamp(r, -128, 127));
    }
  }
}

template <Kind kKind> void eval_float(const OpData& d, const float* x, float* y) {
  for (int32_t i = 0; i < d.size; ++i) {
    const float v = x[i];
    if (kKind == Kind::kTanh) {
      y[i] = tanhf(v);
    } else if (v > 16.619047164916992188f) {  // TFLite's reference cut-offs
      y[i] = 1.0f;
    } else if (v < -9.0f) {
      y[i] = fmath::exp_f32(v);
    } else {
      y[i] = 1.0f / (1.0f + fmath::exp_f32(-v));
    }
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

Status prepare_logistic(Node& node) { return prepare(Kind::kLogistic, node); }
Status prepare_tanh(Node& node) { return prepare(Kind::kTanh, node); }

}  // namespace
}  // namespace sigmoid_common

// TFLM ignores op versions; int8 is v2 of each (v3 = int16). Types are checked in prepare.
namespace sc = sigmoid_common;
namespace logistic {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    sc::parse, sc::data_bytes, sc::prepare_logistic, sc::eval<sc::Kind::kLogistic>};
}  // namespace logistic
namespace tanh {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    sc::parse, sc::data_bytes, sc::prepare_tanh, sc::eval<sc::Kind::kTanh>};
}  // namespace tanh

}  // namespace kernels
}  // namespace mf
