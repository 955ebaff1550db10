// CONV_2D: int8 (per-tensor or per-channel weights, int32 bias) and float32;
// SAME / VALID padding, strides, dilation, fused NONE / RELU / RELU_N1_TO_1 /
// RELU6. Input [N, H, W, C], filter [O, KH, KW, C], output [N, OH, OW, O].
// Matches TFLM's reference kernel bit for bit.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/conv_common.h"
#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace conv_2d {


// channels: per-channel quantization parameters of the filter (0 if per-tensor).
constexpr size_t state_bytes(int32_t channels) { return conv_common::state_bytes(channels); }

extern const Registration kPlanned;  // eval only: the plan carries params and op data

}  // namespace conv_2d
}  // namespace kernels
}  // namespace mf
