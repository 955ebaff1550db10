// LOGISTIC and TANH: int8 (per-tensor input; output fixed by TFLite: LOGISTIC
// scale 1/256 zero point -128, TANH scale 1/128 zero point 0) with TFLite's
// fixed-point algorithms (gemmlowp logistic / tanh on a Q4.27 input), and
// float32 (libm expf / tanhf: bit-exact only where libm is TFLM's, i.e. the host).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace sigmoid_common {

struct OpData {
  int32_t size;
  int32_t input_zero_point;
  int32_t input_range_radius;  // |x - zero point| at or beyond it saturates
  int32_t input_multiplier;    // input scale * 2^27 = multiplier * 2^(shift - 31)
  int32_t input_shift;
  bool is_float;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(0) + align_state(op_data_bytes(channels));  // no params
}

}  // namespace sigmoid_common

namespace logistic {
using sigmoid_common::state_bytes;
}  // namespace logistic

namespace tanh {
using sigmoid_common::state_bytes;
}  // namespace tanh

}  // namespace kernels
}  // namespace mf
