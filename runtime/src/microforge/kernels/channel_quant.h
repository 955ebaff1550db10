// Per-channel requantization of int8 weights, shared by CONV_2D,
// DEPTHWISE_CONV_2D and FULLY_CONNECTED: the generator's multipliers from flash
// when the node carries them, else computed in prepare (TFLM's reference math).
#pragma once

#include <stdint.h>

#include "microforge/runtime.h"

namespace mf {
namespace kernels {

// Checks w's per-channel parameters (quantized along dim, `channels` of them,
// zero points 0, finite positive scales) and sets *mult / *shift to
// node.channel_quant's arrays, or computes them into own[0..2*channels)
// (multipliers, then shifts): own may be null only when the node carries them.
Status channel_requant(const Node& node, const Tensor& in, const Tensor& w, const Tensor& out,
                       int dim, int32_t channels, int32_t* own, const int32_t** mult,
                       const int32_t** shift);

}  // namespace kernels
}  // namespace mf
