// FULLY_CONNECTED: int8 (per-tensor or per-channel weights, int32 bias) and
// float32, fused NONE / RELU / RELU_N1_TO_1 / RELU6, keep_num_dims.
// Matches TFLM's reference kernel bit for bit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace fully_connected {


struct Params {
  uint8_t activation;  // tflite::ActivationFunctionType
  bool keep_num_dims;
};

// Persistent op data; per-channel multipliers and shifts follow it unless the
// node carries the generator's (then op_data_bytes(0) is enough).
struct OpData {
  int32_t batches;
  int32_t accum_depth;
  int32_t out_depth;
  int32_t input_offset;   // -input zero point
  int32_t output_offset;  // output zero point
  int32_t act_min;        // quantized activation range
  int32_t act_max;
  int32_t multiplier;     // per-tensor requantization
  int32_t shift;
  // Per-channel weights: the generator's arrays in flash (node.channel_quant),
  // or the ones prepare computed into the bytes after this struct.
  const int32_t* channel_mult;
  const int32_t* channel_shift;
  bool per_channel;
  bool is_float;
  float f_min;            // float activation range
  float f_max;
};

constexpr size_t op_data_bytes(int32_t out_channels) {
  return sizeof(OpData) +
         2u * sizeof(int32_t) * static_cast<size_t>(out_channels > 0 ? out_channels : 0);
}

constexpr size_t state_bytes(int32_t out_channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(out_channels));
}

extern const Registration kPlanned;  // eval only: the plan carries params and op data

}  // namespace fully_connected
}  // namespace kernels
}  // namespace mf
