// AVERAGE_POOL_2D: int8 and float32, SAME / VALID padding, strides, filter size, fused
// NONE / RELU / RELU_N1_TO_1 / RELU6; averages each window (int8: rounded half away from zero).
// Input and output [N, H, W, C]. Matches TFLM's reference kernel bit for bit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/pool_common.h"
#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace average_pool_2d {


// Pools have no weights: the state does not depend on channels.
constexpr size_t state_bytes(int32_t channels) { return pool_common::state_bytes(channels); }

extern const Registration kPlanned;  // eval only: the plan carries params and op data

}  // namespace average_pool_2d
}  // namespace kernels
}  // namespace mf
