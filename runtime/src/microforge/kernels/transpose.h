// TRANSPOSE: any element type up to 6D, constant int32 permutation (input 1).
// Moves bytes only, so it is exact for int8 and float32 alike.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace transpose {


struct OpData {
  int32_t out_dims[kMaxRank];
  int32_t in_strides[kMaxRank];  // input element stride of each output dimension
  int32_t rank;
  int32_t size;
  uint8_t elem_bytes;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(0) + align_state(op_data_bytes(channels));  // no params
}


}  // namespace transpose
}  // namespace kernels
}  // namespace mf
