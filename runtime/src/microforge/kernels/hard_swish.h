// HARD_SWISH: x * relu6(x + 3) / 6. int8 (per-tensor) with TFLite's int16
// fixed-point reference algorithm, and float32. Matches TFLM bit for bit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace hard_swish {


struct OpData {
  int32_t size;
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t output_exponent;    // <= 0
  int32_t reluish_exponent;
  int16_t output_multiplier;  // Q0.15
  int16_t reluish_multiplier; // Q0.15
  bool is_float;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(0) + align_state(op_data_bytes(channels));  // no params
}


}  // namespace hard_swish
}  // namespace kernels
}  // namespace mf
