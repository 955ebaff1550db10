// CONCATENATION: int8 and float32 along one axis (negative axes count from the
// end), any number of inputs. Values are copied: int8 inputs must share the
// output's quantization (no requantization), and the fused activation must be
// NONE, as in TFLM.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace concatenation {


struct Params {
  int32_t axis;
};

struct OpData {
  int32_t axis;    // resolved
  int32_t outer;   // product of the dimensions before the axis
  int32_t inner;   // bytes of one step along the axis (dims after it * element size)
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(channels));
}


}  // namespace concatenation
}  // namespace kernels
}  // namespace mf
