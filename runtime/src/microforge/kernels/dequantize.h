// DEQUANTIZE: int8 -> float32 (per-tensor).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/registry.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace dequantize {


struct OpData {
  int32_t size;
  int32_t zero_point;
  double scale;
};

constexpr size_t op_data_bytes(int32_t /*out_channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t out_channels) {
  return align_state(0) + align_state(op_data_bytes(out_channels));  // no params
}


}  // namespace dequantize
}  // namespace kernels
}  // namespace mf
