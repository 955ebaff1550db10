// MEAN: int8 (per-tensor) and float32 reduction over constant axes, keep_dims
// or not. Matches TFLM's reference kernels bit for bit: int8 is TFLite's
// QuantizedMeanOrSum (1/count folded into the requantization multiplier), which
// the tested TFLM uses for every int8 MEAN (also 4D keep_dims over axes {1, 2}
// and equal input / output quantization, where older TFLMs had special paths).
// No scratch memory: each output's sum runs over its inputs in increasing
// memory order, as TFLM's does, so float sums round identically.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace mean {


struct Params {
  bool keep_dims;
};

struct OpData {
  int32_t outer_dims[kMaxRank];     // kept input dimensions, in order
  int32_t outer_strides[kMaxRank];  // their input element strides
  int32_t reduced_dims[kMaxRank];   // reduced input dimensions, in order
  int32_t reduced_strides[kMaxRank];
  int32_t num_outer;
  int32_t num_reduced;
  int32_t outputs;                  // output elements
  int32_t count;                    // input elements per output
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;
  int32_t shift;
  bool is_float;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(channels));
}


}  // namespace mean
}  // namespace kernels
}  // namespace mf
