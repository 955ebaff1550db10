// Tensor view used by the interpreter and kernels.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace mf {

// Values are tflite::TensorType's.
enum class DType : uint8_t {
  kFloat32 = 0,
  kFloat16 = 1,
  kInt32 = 2,
  kUInt8 = 3,
  kInt64 = 4,
  kString = 5,
  kBool = 6,
  kInt16 = 7,
  kInt8 = 9,
};

size_t dtype_bytes(DType t);  // 0 for unsupported types

constexpr int kMaxRank = 6;

// The runtime keeps one per tensor (constants included) in the arena tail, so it is kept
// small: 36 B on a 32-bit MCU (Cortex-M4), 56 B on a 64-bit host. Fields are ordered widest
// first so there is no padding. dims points into the model's shape vector (4-byte aligned
// int32, checked on load): the shape costs no arena bytes and is read-only.
struct Tensor {
  void* data;              // arena (activations) or model (constants)
  const int32_t* dims;     // dims[0..rank); never read dims[rank..]
  uint32_t bytes;          // element count * dtype_bytes
  // Quantization. Per-tensor: scale/zero_point. Per-channel (num_channels > 1):
  // scales[c] / zero_points[c] along quantized_dimension; scales points into
  // the model (4-byte aligned float32), zero_points into the model (int64).
  int32_t num_channels;    // 0 = not quantized, 1 = per-tensor
  float scale;
  int32_t zero_point;
  const float* scales;
  const int64_t* zero_points;
  uint8_t rank;
  DType type;
  bool is_constant;
  int8_t quantized_dimension;  // < rank <= kMaxRank

  int32_t elements() const {
    int32_t n = 1;
    for (int i = 0; i < rank; ++i) n *= dims[i];
    return n;
  }
  template <typename T> T* as() { return static_cast<T*>(data); }
  template <typename T> const T* as() const { return static_cast<const T*>(data); }
};

}  // namespace mf
