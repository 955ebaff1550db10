// Fused-activation ranges shared by the kernels (TFLite's ActivationFunctionType),
// with TFLM's semantics: CalculateActivationRange (float) and
// CalculateActivationRangeQuantized (int8 outputs).
#pragma once

#include <float.h>
#include <stdint.h>

#include "microforge/kernels/quant_math.h"
#include "microforge/tensor.h"

namespace mf {
namespace kernels {

constexpr uint8_t kActNone = 0, kActRelu = 1, kActReluN1To1 = 2, kActRelu6 = 3;

// The fused activations the kernels implement (NONE / RELU / RELU_N1_TO_1 / RELU6).
inline bool activation_supported(int8_t act) { return act >= 0 && act <= kActRelu6; }

inline void activation_range_float(uint8_t act, float* lo, float* hi) {
  *lo = -FLT_MAX;
  *hi = FLT_MAX;
  if (act == kActRelu || act == kActRelu6) *lo = 0.0f;
  if (act == kActRelu6) *hi = 6.0f;
  if (act == kActReluN1To1) {
    *lo = -1.0f;
    *hi = 1.0f;
  }
}

// int8 output range: the activation's bounds quantized with the output's
// scale / zero point, intersected with [-128, 127].
inline void activation_range_int8(uint8_t act, const Tensor& out, int32_t* lo, int32_t* hi) {
  auto quantize = [&out](float x) -> int32_t {
    const int64_t q = static_cast<int64_t>(out.zero_point) + qm::round_to_int32(x / out.scale);
    return static_cast<int32_t>(q < INT32_MIN ? INT32_MIN : (q > INT32_MAX ? INT32_MAX : q));
  };
  int32_t a = -128, b = 127;
  if (act == kActRelu || act == kActRelu6) a = quantize(0.0f) > a ? quantize(0.0f) : a;
  if (act == kActRelu6) b = quantize(6.0f) < b ? quantize(6.0f) : b;
  if (act == kActReluN1To1) {
    a = quantize(-1.0f) > a ? quantize(-1.0f) : a;
    b = quantize(1.0f) < b ? quantize(1.0f) : b;
  }
  *lo = a;
  *hi = b;
}

// std::min(std::max(v, lo), hi) in that order, so NaN propagates as in TFLM.
inline float clamp_float(float v, float lo, float hi) {
  v = (v < lo) ? lo : v;
  return (hi < v) ? hi : v;
}

}  // namespace kernels
}  // namespace mf
