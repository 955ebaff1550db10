// Element-wise binary arithmetic with broadcasting: ADD, SUB, MUL.
// int8 (per-tensor) and float32, fused NONE / RELU / RELU_N1_TO_1 / RELU6.
// Matches TFLM's reference kernels bit for bit:
//   ADD / SUB int8: both inputs rescaled to a common scale after a left shift
//     of 20 (ADD computes the multipliers in double, SUB in float, like TFLM);
//   MUL int8: one requantization of the product of the offset inputs.
// Broadcasting follows numpy rules; when the shapes differ the output rank must
// be <= 4 (TFLM's broadcast kernels are 4D), otherwise any rank up to 6.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace arithmetic {

struct Params {
  uint8_t activation;  // tflite::ActivationFunctionType
};

struct OpData {
  int32_t dims[kMaxRank];     // output shape, left-padded with 1s to kMaxRank
  int32_t stride1[kMaxRank];  // element strides of input 1 (0 along broadcast dims)
  int32_t stride2[kMaxRank];
  int32_t size;               // output elements
  int32_t input1_offset;      // -zero points
  int32_t input2_offset;
  int32_t output_offset;
  int32_t input1_multiplier;  // ADD / SUB only
  int32_t input1_shift;
  int32_t input2_multiplier;
  int32_t input2_shift;
  int32_t output_multiplier;
  int32_t output_shift;
  int32_t act_min;
  int32_t act_max;
  float f_min;
  float f_max;
  bool is_float;
  bool same_shape;            // no broadcasting: one flat loop over size elements
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(channels));
}

}  // namespace arithmetic

namespace add {
using arithmetic::state_bytes;
}  // namespace add

namespace sub {
using arithmetic::state_bytes;
}  // namespace sub

namespace mul {
using arithmetic::state_bytes;
}  // namespace mul

}  // namespace kernels
}  // namespace mf
