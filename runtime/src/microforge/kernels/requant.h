// Requantization of int32 accumulators to int8 outputs for the fast kernels:
// the reference's MultiplyByQuantizedMultiplier (TFLM's double rounding), the
// output offset and the activation clamp, in fewer instructions.
#pragma once

#include <stdint.h>

#include "microforge/kernels/quant_math.h"
#include "microforge/kernels/simd.h"

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

// The short requantization of the fast kernels' assembly: for a right shift
// r >= 1, a multiplier m in [2^30, 2^31) (quantize_multiplier's range) and
// accumulators |x| < 2^30 small enough that no sum below leaves int32, the
// reference's result plus the output offset is
//   (h + 2^(r-1) - [x < 0] + offset * 2^r) >> r,  h = floor((x * m + 2^30) / 2^31)
// ([x < 0] stands in for [h < 0]: with r >= 1 they give the same result). The
// kernels keep their accumulators doubled (the widened filters, taps and the
// quick blocks' biases are), and SMMLAR(2x, m, a) = a + h; so with
// a = base + [2x < 0 ? -1 : 0] and base = 2^(r-1) + offset * 2^r it is the sum
// above: ADD, SMMLAR, ASR and SSAT from the doubled accumulator to the output
// before its clamp. A channel whose output is one value v for every
// accumulator it can have takes m = 0, base = 2v + 1, r = 1 (then the sign
// term, and the doubled accumulator, may be anything).
struct QuickRequant {
  int32_t m;
  int32_t base;  // 2^(r-1) + offset * 2^r
  int32_t r;
};

// The word SMMLAR returns: a + (x * m + 2^31) / 2^32 rounded down, modulo 2^32.
inline int32_t smmlar(int32_t x, int32_t m, int32_t a) {
#if MF_HAVE_DSP
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(x), "r"(m), "r"(a));
  return r;
#else
  const int64_t p = static_cast<int64_t>(x) * m + (1ll << 31);
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(p >> 32));
#endif
}

// The short form of accumulator x (not doubled: doubled here, modulo 2^32).
MF_ALWAYS_INLINE int32_t apply_quick(const QuickRequant& q, int32_t x) {
  const int32_t x2 = static_cast<int32_t>(static_cast<uint32_t>(x) << 1);
  const uint32_t a = static_cast<uint32_t>(q.base) + static_cast<uint32_t>(x2 >> 31);
  return smmlar(x2, q.m, static_cast<int32_t>(a)) >> q.r;
}

// |v| without overflow (for INT32_MIN too).
inline int64_t magnitude(int32_t v) { return v < 0 ? -static_cast<int64_t>(v) : v; }

// Whether base + h - [x < 0] stays within int32 for every |h| <= h_bound.
inline bool quick_fits(int64_t base, int64_t h_bound) {
  return base - h_bound - 1 >= INT32_MIN && base + h_bound <= INT32_MAX;
}

// The short form for multiplier m, shift s and output offset when every
// accumulator lies within +-acc_bound; false where it would not be exact.
// A channel whose output is the offset for every such accumulator (m = 0, or a
// right shift r with |h| <= acc_bound < 2^(r-1): dead channels of pruned
// models) gets the constant form.
inline bool make_quick(int32_t m, int32_t s, int32_t out_offset, int64_t acc_bound, QuickRequant* q) {
  const bool constant = m == 0 || (s <= -1 && s >= -62 && (1ll << (-s - 1)) - 1 >= acc_bound);
  if (constant) {
    *q = {0, 2 * out_offset + 1, 1};
    return true;
  }
  if (m < (1 << 30) || s > -1 || s < -30 || acc_bound >= (1ll << 30)) return false;
  const int32_t r = -s;
  const int64_t base = (1ll << (r - 1)) + static_cast<int64_t>(out_offset) * (1ll << r);
  if (!quick_fits(base, acc_bound)) return false;  // |h| <= acc_bound as m < 2^31
  *q = {m, static_cast<int32_t>(base), r};
  return true;
}

// A channel without weights (pruned models have them, with huge biases and
// tiny scales): its accumulator is its bias b, so its output is one value v
// (saturated to int8; the clamp follows): the constant form.
inline bool constant_quick(int32_t m, int32_t s, int32_t out_offset, int32_t b, QuickRequant* q) {
  int32_t v = qm::wrap_add(fast_multiply_by_quantized_multiplier(b, m, s), out_offset);
  v = v < -128 ? -128 : (v > 127 ? 127 : v);
  *q = {0, 2 * v + 1, 1};
  return apply_quick(*q, b) == v;
}

// What RequantTable needs for the short form: the biases (or none), and the
// filter's int8 weights of channel c, tap t at w[c * channel_stride + t * tap_stride].
struct QuickSource {
  const int32_t* bias;
  const int8_t* w;
  int32_t taps, channel_stride, tap_stride;
  int32_t block;  // channels per quick block: 2 or 4

  bool zero_weights(int32_t c) const {
    const int8_t* p = w + c * channel_stride;
    int32_t t = 0;
    if (tap_stride == 1) {  // a contiguous row: four at a time
      for (; t + 4 <= taps; t += 4) {
        if (simd::load4(p + t) != 0) return false;
      }
    }
    for (; t < taps; ++t) {
      if (p[t * tap_stride] != 0) return false;
    }
    return true;
  }
};

// Requant for a window of up to kChannels output channels [first, first + n),
// decoded once: called like Requant, with absolute channels. When every
// channel of the window has the short form (QuickRequant; the accumulators of
// `taps` products of int8 values with an offset input are bounded), the table
// holds that instead (`quick`), in blocks of `block` channels for the assembly:
// their biases doubled (0 without; twice over in blocks of 2, so that one LDM
// starts both pixels' accumulators of CONV_2D's tiles), then (m, base, r) per
// channel.
struct RequantTable {
  static constexpr int32_t kChannels = 64;
  int32_t first;
  int32_t out_offset, lo, hi;
  bool quick;
  int32_t block;          // 2 or 4
  const int32_t* qwords;  // the quick blocks from window channel 0: words, or the generator's in flash
  union {
    ChannelRequant ch[kChannels];
    int32_t words[kChannels * 5 + 4];  // + the bias words CONV_2D's tiles read past the last block
  };

  // Words of a block of `block` channels, and of its biases.
  static constexpr int32_t block_words(int32_t block) { return block == 2 ? 10 : 4 * block; }
  static constexpr int32_t bias_words(int32_t block) { return block == 2 ? 4 : block; }

  // Without a QuickSource, or when a channel has no short form, the general form.
  void fill(const Requant& rq, int32_t c0, int32_t n, const QuickSource* src = nullptr) {
    start(rq, c0, src != nullptr ? src->block : 2, words);
    quick = src != nullptr && fill_quick(rq, c0, n, *src);
    if (quick) return;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t c = (c0 + i) & rq.channel_mask;
      ch[i] = decode_requant(rq.mult[c], rq.shift[c]);
    }
  }

  // The generator's quick blocks of all channels (ChannelQuant::quick, in the
  // layout above), from channel c0 (a multiple of block_size).
  void use(const Requant& rq, int32_t c0, const int32_t* plan_quick, int32_t block_size) {
    start(rq, c0, block_size, plan_quick + c0 / block_size * block_words(block_size));
    quick = true;
  }

  // The clamp bounds repeated in the four bytes of a word, and whether they are int8's own.
  bool full_range() const { return lo == -128 && hi == 127; }
  static uint32_t bytes4(int32_t v) { return (static_cast<uint32_t>(v) & 0xFFu) * 0x01010101u; }

  // The quick block holding window channel i (a multiple of block).
  const int32_t* quick_block(int32_t i) const { return qwords + i / block * block_words(block); }

  MF_ALWAYS_INLINE int8_t operator()(int32_t c, int32_t acc) const {
    const int32_t i = c - first;
    int32_t v;
    if (quick) {
      const int32_t j = i & (block - 1);
      const int32_t* q = qwords + i / block * block_words(block) + bias_words(block) + 3 * j;
      v = apply_quick(QuickRequant{q[0], q[1], q[2]}, acc);
    } else {
      v = qm::wrap_add(apply_requant(ch[i], acc), out_offset);
    }
    return static_cast<int8_t>(v < lo ? lo : (v > hi ? hi : v));
  }

 private:
  void start(const Requant& rq, int32_t c0, int32_t block_size, const int32_t* quick_words) {
    first = c0;
    out_offset = rq.out_offset;
    lo = rq.lo;
    hi = rq.hi;
    block = block_size;
    qwords = quick_words;
  }

  bool fill_quick(const Requant& rq, int32_t c0, int32_t n, const QuickSource& src) {
    // |x + input offset| <= 255 and |w| <= 128 for int8 x and w.
    const int64_t products = static_cast<int64_t>(src.taps) * 255 * 128;
    for (int32_t i = 0; i < n; ++i) {
      const int32_t c = (c0 + i) & rq.channel_mask;
      const int32_t b = src.bias != nullptr ? src.bias[c0 + i] : 0;
      const int64_t bound = products + magnitude(b);
      QuickRequant q;
      if (!make_quick(rq.mult[c], rq.shift[c], rq.out_offset, bound, &q) &&
          !(src.zero_weights(c0 + i) && constant_quick(rq.mult[c], rq.shift[c], rq.out_offset, b, &q))) {
        return false;
      }
      const int32_t j = i & (block - 1);
      int32_t* blk = words + i / block * block_words(block);
      blk[j] = static_cast<int32_t>(static_cast<uint32_t>(b) << 1);  // doubled, as the accumulators
      if (block == 2) blk[j + 2] = blk[j];
      int32_t* dst = blk + bias_words(block) + 3 * j;
      dst[0] = q.m;
      dst[1] = q.base;
      dst[2] = q.r;
    }
    return true;
  }
};

}  // namespace kernels
}  // namespace mf
