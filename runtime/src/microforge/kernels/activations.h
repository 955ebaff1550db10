// Standalone element-wise activations: RELU, RELU6, LEAKY_RELU; int8
// (per-tensor, requantized to the output's scale / zero point) and float32.
// RELU and LEAKY_RELU match TFLM's reference kernels bit for bit. int8 RELU6
// follows LiteRT's reference kernel (requantize, clamp to the output's
// quantized [0, 6]): TFLM's clamps the raw input and ignores the output
// quantization, which is wrong whenever the two differ (see runtime/README.md).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace activations {

struct Params {
  float alpha;  // LEAKY_RELU only
};

struct OpData {
  int32_t size;
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;        // input scale / output scale (LEAKY_RELU: x >= 0)
  int32_t shift;
  int32_t alpha_multiplier;  // LEAKY_RELU: x < 0
  int32_t alpha_shift;
  int32_t act_min;
  int32_t act_max;
  float alpha;
  bool is_float;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(channels));
}

}  // namespace activations

namespace relu {
using activations::state_bytes;
}  // namespace relu

namespace relu6 {
using activations::state_bytes;
}  // namespace relu6

namespace leaky_relu {
using activations::state_bytes;
}  // namespace leaky_relu

}  // namespace kernels
}  // namespace mf
