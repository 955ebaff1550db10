// DEQUANTIZE: int8 -> float32 (per-tensor).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace dequantize {

constexpr int32_t kBuiltinCode = 6;  // tflite::BuiltinOperator_DEQUANTIZE

struct OpData {
  int32_t size;
  int32_t zero_point;
  double scale;
};

constexpr size_t op_data_bytes(int32_t /*out_channels*/) { return sizeof(OpData); }
constexpr size_t state_bytes(int32_t out_channels) {
  return align_state(0) + align_state(op_data_bytes(out_channels));  // no params
}

extern const Registration kRegistration;

}  // namespace dequantize
}  // namespace kernels
}  // namespace mf
