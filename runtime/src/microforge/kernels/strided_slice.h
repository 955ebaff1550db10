// STRIDED_SLICE: int8 and float32 (bytes copied), up to 5D, constant int32
// begin / end / strides (one entry per input axis), begin / end / shrink_axis masks.
// ellipsis_mask, new_axis_mask and offset are not supported (rejected when parsing;
// TFLM ignores offset).
// Index rules as TFLite's strided_slice_logic (negative indices, clamping,
// masks, negative strides).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace strided_slice {

constexpr int kMaxDims = 5;

struct Params {
  int32_t begin_mask;
  int32_t end_mask;
  int32_t ellipsis_mask;
  int32_t new_axis_mask;
  int32_t shrink_axis_mask;
  bool offset;
};

struct OpData {
  int32_t counts[kMaxDims];  // output extent per (5D-extended) axis
  int32_t steps[kMaxDims];   // input element step per axis (stride * input stride)
  int32_t base;              // input offset of the first element
  int32_t size;              // output elements
  uint8_t elem_bytes;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(channels));
}


}  // namespace strided_slice
}  // namespace kernels
}  // namespace mf
