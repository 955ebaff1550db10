// What every fast routine family shares (fast/dispatch.cpp includes it once, before the
// families' .inc files): the compile settings of the tile loops, the SIMD names, the
// requantization of an op's data, the widening of int8 runs, the one-output fallback, and the
// assembly macros of the short requantization and of the bytewise clamp.
//
// Only for fast/dispatch.cpp: it switches the rest of that file to -O2 (below).
#pragma once

#include <stddef.h>
#include <string.h>

#include "microforge/kernels/fast/fast_int8.h"
#include "microforge/kernels/quant_math.h"
#include "microforge/kernels/requant.h"

// The inner loops must be unrolled over the tile and keep its accumulators in
// registers, also in a size-optimized (-Os) build.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O2", "omit-frame-pointer")
#endif

// Functions holding those loops stay out of line (MF_NOINLINE) where their
// callers have kilobytes of stack buffers: stack offsets past 4 KB would need
// one more register than the loops leave.
#if defined(__GNUC__)
#define MF_NOINLINE __attribute__((noinline))
#else
#define MF_NOINLINE
#endif

// The inner loops written in assembly need 12-13 free registers: not given in
// unoptimized builds, which take the C++ forms (same results). Their in-out
// operands are early-clobber ("+&r"): the loops write accumulators before they
// last read the inputs, so no input may share a register with them (GCC would
// otherwise let an input equal to an accumulator's start value, say 0, share it).
#if MF_HAVE_DSP && defined(__OPTIMIZE__)
#define MF_DSP_ASM 1
#else
#define MF_DSP_ASM 0
#endif

// Short copies and fills (a patch's rows, a band's padding: a few bytes each, so a library
// call would cost more than the bytes), kept as loops rather than turned into calls.
#if defined(__GNUC__) && !defined(__clang__)
#define MF_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define MF_NO_LIBCALLS
#endif

namespace mf {
namespace kernels {
namespace fast {

namespace {

using simd::load4;
using simd::smlabb;
using simd::smlad;
using simd::smlatt;
using simd::sxtab16;
using simd::sxtab16_ror8;
using simd::sxtb16;
using simd::sxtb16_ror8;

// The requantization of a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED op data: per channel,
// or the one per-tensor multiplier (which per-tensor op data keeps in `multiplier` only).
template <typename OpData>
Requant op_requant(const OpData& d) {
  if (!d.per_channel) return {&d.multiplier, &d.shift, 0, d.output_offset, d.act_min, d.act_max};
  return {d.channel_mult, d.channel_shift, ~0, d.output_offset, d.act_min, d.act_max};
}

// Channels [c0, c0 + n) of a window: the generator's quick blocks (plan_quick) where the node has
// them, else derived here from src; without `fill` the covers have checked the node has them.
inline void window_requant(RequantTable& table, const Requant& rq, const int32_t* plan_quick, int32_t c0,
                           int32_t n, const QuickSource& src, bool fill = MF_QUICK_FILL) {
  if (plan_quick != nullptr || !fill) {
    table.use(rq, c0, plan_quick, src.block);
  } else {
    table.fill(rq, c0, n, &src);
  }
}

// acc + x * w, wrapping like the reference's int32 sums (the n % 4 tails).
inline int32_t mac(int32_t acc, int32_t x, int32_t w) {
  return static_cast<int32_t>(static_cast<uint32_t>(acc) + static_cast<uint32_t>(x * w));
}

// Widens k int8 with `offset` added, four at a time: the words (k, k+2) and
// (k+1, k+3) of each group go to dst[0], dst[1], groups `step` words apart; the
// last k % 4 values, offset added, go to tail, and also to one more group
// padded with zeros (the assembly loops run over whole groups).
inline void widen_with_offset(const int8_t* src, int32_t k, int32_t offset, uint32_t* dst,
                              int32_t step, int32_t* tail) {
  const uint32_t off2 = simd::pack16(offset, offset);
  for (int32_t g = k >> 2; g > 0; --g, src += 4, dst += step) {
    const uint32_t v = load4(src);
    dst[0] = sxtab16(off2, v);
    dst[1] = sxtab16_ror8(off2, v);
  }
  const int32_t rest = k & 3;
  if (rest == 0) return;
  int32_t padded[4] = {0, 0, 0, 0};
  for (int32_t t = 0; t < rest; ++t) tail[t] = padded[t] = src[t] + offset;
  dst[0] = simd::pack16(padded[0], padded[2]);
  dst[1] = simd::pack16(padded[1], padded[3]);
}

#if !MF_CONV_C_TILES || !MF_FC_C_QUADS
// One output without the tiles: acc plus the products of `groups` groups of
// widened words (from xp, `step` words a group) and then of the `rest` values
// of tail with the int8 row w.
MF_NOINLINE int32_t dot_row(const uint32_t* xp, int32_t step, int32_t groups, const int32_t* tail, int32_t rest,
                            const int8_t* w, int32_t acc) {
  for (int32_t g = groups; g > 0; --g, xp += step, w += 4) {
    const uint32_t v = load4(w);
    acc = smlad(xp[1], sxtb16_ror8(v), smlad(xp[0], sxtb16(v), acc));
  }
  for (int32_t t = 0; t < rest; ++t) acc = mac(acc, tail[t], w[t]);
  return acc;
}
#endif

inline int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
inline int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }

// Channels c..c+3 of a depthwise group: accumulators from their biases (or 0).
inline void bias4(const int32_t* bias, int32_t c, int32_t& a0, int32_t& a1, int32_t& a2,
                  int32_t& a3) {
  a0 = a1 = a2 = a3 = 0;
  if (bias != nullptr) {
    a0 = bias[c];
    a1 = bias[c + 1];
    a2 = bias[c + 2];
    a3 = bias[c + 3];
  }
}

}  // namespace

}  // namespace fast
}  // namespace kernels
}  // namespace mf

#if MF_DSP_ASM
// -- assembly macros shared by the routine families ----------------------------------------------

// Doubled accumulator A with the short requantization (QuickRequant) of
// (m, base, r) in M, B, R, saturated to int8: 4 instructions, T scratch. The
// widened filters and taps and the quick blocks' biases are doubled, so the
// accumulators are; others double A first (MF_QUICK_UNDOUBLED_T).
#define MF_QUICK_T(A, M, B, R, T)              \
  "add " T ", " B ", " A ", asr #31\n\t"       \
  "smmlar " A ", " A ", " M ", " T "\n\t"      \
  "asr " A ", " A ", " R "\n\t"                \
  "ssat " A ", #8, " A "\n\t"
#define MF_QUICK_UNDOUBLED_T(A, M, B, R, T) "add " A ", " A ", " A "\n\t" MF_QUICK_T(A, M, B, R, T)

// The packed int8 outputs in W clamped bytewise to [lo, hi] (the bounds in
// each byte of LO, HI), T scratch.
#define MF_CLAMP_BYTES(W, LO, HI, T)           \
  "ssub8 " T ", " W ", " LO "\n\t"             \
  "sel " W ", " W ", " LO "\n\t"               \
  "ssub8 " T ", " HI ", " W "\n\t"             \
  "sel " W ", " W ", " HI "\n\t"
#endif  // MF_DSP_ASM
