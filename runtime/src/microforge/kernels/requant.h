// Requantization of int32 accumulators to int8 outputs for the fast kernels:
// the reference's MultiplyByQuantizedMultiplier (TFLM's double rounding), the
// output offset and the activation clamp, in fewer instructions.
#pragma once

#include <stdint.h>

#include "microforge/kernels/quant_math.h"

namespace mf {
namespace kernels {

// x * m * 2^s with TFLM's rounding, for a multiplier from quantize_multiplier
// (m >= 0, s in [-31, 30]): equal to qm::multiply_by_quantized_multiplier for
// every acc (checked exhaustively over edge values by tests/runtime).
//
// With Q = (acc << left) * m + 2^30 the reference computes h = floor(Q / 2^31)
// (the doubling high multiply: it never saturates for m >= 0), then divides by
// 2^r rounding half away from zero: floor((h + 2^(r-1) - [h < 0]) / 2^r) for
// r >= 1. Both floors merge: floor((Q + c * 2^31) / 2^(31 + r)) with
// c = 2^(r-1) - [Q < 0], which is one 64-bit add and the high word shifted.
inline int32_t fast_multiply_by_quantized_multiplier(int32_t acc, int32_t m, int32_t s) {
  const int32_t left = s > 0 ? s : 0;
  const int64_t q =
      static_cast<int64_t>(static_cast<int32_t>(static_cast<uint32_t>(acc) << left)) * m +
      (1ll << 30);
  if (s >= 0) return static_cast<int32_t>(q >> 31);
  const int32_t r1 = -s - 1;  // right shift minus one, in [0, 30]
  const int32_t c = (1 << r1) + static_cast<int32_t>(q >> 63);
  const int64_t t = q + static_cast<int64_t>(static_cast<uint64_t>(static_cast<int64_t>(c)) << 31);
  return static_cast<int32_t>(t >> 32) >> r1;
}

// One output channel's accumulator -> int8 output.
struct Requant {
  const int32_t* mult;   // per channel, or the one multiplier
  const int32_t* shift;
  int32_t channel_mask;  // ~0 per channel, 0 for one multiplier (index 0 for all)
  int32_t out_offset, lo, hi;

  int8_t operator()(int32_t c, int32_t acc) const {
    int32_t v = fast_multiply_by_quantized_multiplier(acc, mult[c & channel_mask],
                                                      shift[c & channel_mask]);
    v = qm::wrap_add(v, out_offset);
    return static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
  }
};

}  // namespace kernels
}  // namespace mf
