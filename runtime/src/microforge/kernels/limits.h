// Every kernel limit the generator must know, written once: generator/microforge/lower/limits.py reads
// this file, so the plan and the build flags it emits follow what the kernels below accept.
// A node over a limit takes the kernel's general path (or is refused, where noted).
#pragma once

#include <stdint.h>

namespace mf {
namespace limits {

// CONV_2D fast tiles: filter taps x input depth of one output's patch (3x3x64).
constexpr int32_t kConvMaxPatch = 576;
// FULLY_CONNECTED fast quads: the depth of the widened input row.
constexpr int32_t kFcMaxWideDepth = 1024;
// FULLY_CONNECTED: channels whose short requantization one call keeps.
constexpr int32_t kFcQuickChannels = 32;
// DEPTHWISE_CONV_2D fast blocks: words of widened filter taps, and channels a block at most.
constexpr int32_t kDepthwiseTapWords = 400;
constexpr int32_t kDepthwiseMaxBlock = 32;
// DEPTHWISE_CONV_2D with one input channel and a depth multiplier: its filter transposed
// (micro_speech: 8 channels x 80 taps), and the words of it widened on the device.
constexpr int32_t kDepthwiseMaxTransposed = 640;
constexpr int32_t kDepthwiseMaxWideTransposed = 512;
// AVERAGE_POOL_2D fast path: windows whose int8 sums fit 16-bit halves.
constexpr int32_t kPoolMaxFastWindow = 256;
// int8 SOFTMAX: the depth that keeps every rounding shift <= 31 (deeper rows are refused).
constexpr int32_t kSoftmaxMaxDepth = 511;

}  // namespace limits
}  // namespace mf
