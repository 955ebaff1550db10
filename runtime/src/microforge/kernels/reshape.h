// Shape-only ops that move no data around: RESHAPE, SQUEEZE, EXPAND_DIMS.
// Each copies its input's bytes to the output unchanged (any element type);
// the output tensor's shape is authoritative, as in TFLM, so shape inputs and
// options are only checked, never applied.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace reshape_common {

struct OpData {
  uint32_t bytes;  // input bytes == output bytes
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(0) + align_state(op_data_bytes(channels));  // no params
}

}  // namespace reshape_common

namespace reshape {
using reshape_common::state_bytes;
extern const Registration kPlanned;  // eval only: the plan carries the op data
}  // namespace reshape

namespace squeeze {
using reshape_common::state_bytes;
extern const Registration kPlanned;  // eval only: the plan carries the op data
}  // namespace squeeze

namespace expand_dims {
using reshape_common::state_bytes;
extern const Registration kPlanned;  // eval only: the plan carries the op data
}  // namespace expand_dims

}  // namespace kernels
}  // namespace mf
