// Output size and padding of 2-D windows (convolutions and pools), computed
// exactly as TFLite does (ComputeOutSize / ComputePaddingWithOffset). The kernels
// start each window at out * stride - padding, like TFLM's reference kernels;
// the odd extra padding (offset) falls at the end and needs no handling.
#pragma once

#include <stdint.h>

namespace mf {
namespace kernels {

constexpr int8_t kPaddingSame = 0, kPaddingValid = 1;  // tflite::Padding

// Output extent along one axis; -1 for invalid arguments (bad padding, stride
// or dilation < 1, filter < 1, a VALID window larger than the input).
inline int32_t window_out_size(int8_t padding, int32_t in, int32_t filter, int32_t stride,
                               int32_t dilation) {
  if (stride < 1 || dilation < 1 || filter < 1 || in < 1) return -1;
  // 32-bit divisions only (no 64-bit division helper linked): ceil(in / stride) for SAME,
  // floor((in - effective) / stride) + 1 for VALID.
  if (padding == kPaddingSame) return (in - 1) / stride + 1;
  if (padding != kPaddingValid) return -1;
  const int64_t effective = static_cast<int64_t>(filter - 1) * dilation + 1;
  if (effective > in) return -1;
  return (in - static_cast<int32_t>(effective)) / stride + 1;
}

// Padding before the first element along one axis (total padding / 2, >= 0).
inline int32_t window_padding(int32_t in, int32_t filter, int32_t stride, int32_t dilation,
                              int32_t out) {
  const int64_t effective = static_cast<int64_t>(filter - 1) * dilation + 1;
  const int64_t total = static_cast<int64_t>(out - 1) * stride + effective - in;
  return total > 0 ? static_cast<int32_t>(total / 2) : 0;
}

}  // namespace kernels
}  // namespace mf
