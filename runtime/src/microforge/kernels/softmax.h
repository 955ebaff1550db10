// SOFTMAX over the last dimension: int8 -> int8 (output scale 1/256, zero
// point -128) with TFLite's fixed-point algorithm (gemmlowp exp and reciprocal,
// beta folded into the input multiplier), and float32 (uses expf from libm).
// Matches TFLM's reference kernel bit for bit (float: where libm's expf is the
// one TFLM links, i.e. on the host).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace softmax {


struct Params {
  float beta;
};

struct OpData {
  int32_t outer;           // rows
  int32_t depth;           // last dimension
  int32_t input_multiplier;
  int32_t input_left_shift;
  int32_t diff_min;        // differences below this contribute exp() = 0
  bool is_float;
  float beta;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(channels));
}

extern const Registration kPlanned;  // eval only: the plan carries params and op data

}  // namespace softmax
}  // namespace kernels
}  // namespace mf
