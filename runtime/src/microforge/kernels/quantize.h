// QUANTIZE: float32 -> int8 (affine) and int8 -> int8 (requantize).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace quantize {


struct OpData {
  int32_t size;
  bool from_float;
  double scale;          // output scale (float input)
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;    // input scale / output scale (int8 input)
  int32_t shift;
};

constexpr size_t op_data_bytes(int32_t /*out_channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t out_channels) {
  return align_state(0) + align_state(op_data_bytes(out_channels));  // no params
}


}  // namespace quantize
}  // namespace kernels
}  // namespace mf
