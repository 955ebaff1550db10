// MAX_POOL_2D: int8 and float32, SAME / VALID padding, strides, filter size, fused
// NONE / RELU / RELU_N1_TO_1 / RELU6; takes each window's maximum.
// Input and output [N, H, W, C]. Matches TFLM's reference kernel bit for bit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/pool_common.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace max_pool_2d {

constexpr int32_t kBuiltinCode = 17;  // tflite::BuiltinOperator_MAX_POOL_2D

// Pools have no weights: the state does not depend on channels.
constexpr size_t state_bytes(int32_t channels) { return pool_common::state_bytes(channels); }

extern const Registration kRegistration;
extern const Registration kPlanned;  // eval only: the plan carries params and op data

}  // namespace max_pool_2d
}  // namespace kernels
}  // namespace mf
