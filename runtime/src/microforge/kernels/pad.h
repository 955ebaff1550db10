// PAD / PADV2: int8 and float32, constant paddings (int32 [rank, 2]) on up to
// 5 dimensions. The padding value is PADV2's constant, else the output zero
// point (int8) or 0 (float). Values are copied, never requantized; as in TFLM,
// int8 input, output and constant must share one quantization.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace pad {


struct OpData {
  int32_t out_dims[kMaxRank];
  int32_t before[kMaxRank];      // padding before each dimension
  int32_t in_dims[kMaxRank];
  int32_t rank;
  int32_t size;                  // output elements
  uint32_t pad_bits;             // the padding value's bytes (int8 or float32)
  uint8_t elem_bytes;
};

constexpr size_t op_data_bytes(int32_t /*channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t channels) {
  return align_state(0) + align_state(op_data_bytes(channels));  // no params
}


}  // namespace pad

namespace padv2 {
using pad::state_bytes;
}  // namespace padv2

}  // namespace kernels
}  // namespace mf
