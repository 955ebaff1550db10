// Requantization of int32 accumulators to int8 outputs for the fast kernels:
// the reference's MultiplyByQuantizedMultiplier (TFLM's double rounding), the
// output offset and the activation clamp, in fewer instructions.
#pragma once

#include <stdint.h>

#include "microforge/kernels/quant_math.h"

// Inlined also in -Os builds: called once per output.
#if defined(__GNUC__)
#define MF_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define MF_ALWAYS_INLINE inline
#endif

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


// One channel's requantization decoded once per kernel call, for the per-output
// step: x = acc << left; for a right shift r >= 1 the reference's result is
// floor((x * m + 2^30 + 2^(r+30) - [x < 0] * 2^31) / 2^(32 + r - 1)), one
// 64-bit multiply-add from a per-channel start value and the high word shifted
// by r - 1. ([x < 0] stands in for [Q < 0] above: they differ only when
// x * m is in [-2^30, 0), i.e. m = 0 or m = 2^30 with x = -1, where both give 0.)
// For r = 0 it is (x * m + 2^30) >> 31.
struct ChannelRequant {
  int32_t m;
  int32_t left;
  int32_t right1;     // r - 1, or -1 when r = 0
  uint32_t round_lo;  // 2^30 + 2^(r+30), low and high words (r >= 1)
  int32_t round_hi;
  int32_t unused;
};

inline ChannelRequant decode_requant(int32_t m, int32_t s) {
  ChannelRequant q = {m, s > 0 ? s : 0, s >= 0 ? -1 : -s - 1, 0, 0, 0};
  if (q.right1 >= 0) {
    const uint64_t round = (1ull << 30) + (1ull << (q.right1 + 31));
    q.round_lo = static_cast<uint32_t>(round);
    q.round_hi = static_cast<int32_t>(round >> 32);
  }
  return q;
}

MF_ALWAYS_INLINE int32_t apply_requant(const ChannelRequant& q, int32_t acc) {
  const int32_t x = static_cast<int32_t>(static_cast<uint32_t>(acc) << q.left);
  if (q.right1 < 0) return static_cast<int32_t>((static_cast<int64_t>(x) * q.m + (1ll << 30)) >> 31);
  const int64_t start = static_cast<int64_t>((static_cast<uint64_t>(static_cast<uint32_t>(q.round_hi)) << 32) |
                                             q.round_lo) -
                        static_cast<int64_t>(static_cast<uint32_t>(x) & 0x80000000u);
  const int64_t t = start + static_cast<int64_t>(x) * q.m;
  return static_cast<int32_t>(t >> 32) >> q.right1;
}

// Requant for a window of up to kChannels output channels [first, first + n),
// decoded (ChannelRequant) once: called like Requant, with absolute channels.
struct RequantTable {
  static constexpr int32_t kChannels = 64;
  ChannelRequant ch[kChannels];
  int32_t first;
  int32_t out_offset, lo, hi;

  void fill(const Requant& rq, int32_t c0, int32_t n) {
    first = c0;
    out_offset = rq.out_offset;
    lo = rq.lo;
    hi = rq.hi;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t c = (c0 + i) & rq.channel_mask;
      ch[i] = decode_requant(rq.mult[c], rq.shift[c]);
    }
  }

  MF_ALWAYS_INLINE int8_t operator()(int32_t c, int32_t acc) const {
    int32_t v = qm::wrap_add(apply_requant(ch[c - first], acc), out_offset);
    return static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
  }
};

}  // namespace kernels
}  // namespace mf
