#include "microforge/kernels/fast_int8.h"

#if MF_FAST_KERNELS

#include <stddef.h>
#include <string.h>

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

// Per-model builds leave out the routines a model never reaches (microforge.variants sets the
// flags; without them everything is built). A tile or row routine left out leaves its outputs to
// the C loops (same results, slower): MF_MODEL_CONV_TILES and MF_MODEL_DEPTHWISE_ROWS (masks, at
// their routines below), MF_MODEL_FC_QUADS. With MF_MODEL_CONV_TILES_ONLY=1 / MF_MODEL_FC_QUADS_ONLY=1
// those routines take every channel pair / row quad of the model, so the C loops' 2x2 / 1x4 tiles
// are left out too: an output left over runs alone (dot_row). MF_MODEL_DEPTHWISE_3X3_ONLY=1 leaves
// out the general depthwise path (depthwise_blocks): the fast path then covers depth multiplier 1
// only with 3x3 filters and whole groups of 4 channels (depthwise_conv_2d_covers).
#if defined(MF_MODEL_CONV_TILES_ONLY) && MF_MODEL_CONV_TILES_ONLY
#define MF_CONV_C_TILES 0
#else
#define MF_CONV_C_TILES 1
#endif
#if defined(MF_MODEL_FC_QUADS_ONLY) && MF_MODEL_FC_QUADS_ONLY
#define MF_FC_C_QUADS 0
#else
#define MF_FC_C_QUADS 1
#endif
#if defined(MF_MODEL_DEPTHWISE_3X3_ONLY) && MF_MODEL_DEPTHWISE_3X3_ONLY
#define MF_DEPTHWISE_BLOCKS 0
#else
#define MF_DEPTHWISE_BLOCKS 1
#endif
// MF_MODEL_QUICK_FROM_PLAN=1: every CONV_2D and depth multiplier 1 DEPTHWISE_CONV_2D node the fast
// path takes has the generator's short requantization (OpData::quick), so the kernels' own
// derivation of it (RequantTable::fill) is left out for them; the covers refuse a node without it.
#if defined(MF_MODEL_QUICK_FROM_PLAN) && MF_MODEL_QUICK_FROM_PLAN
#define MF_QUICK_FILL 0
#else
#define MF_QUICK_FILL 1
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

#if MF_CONV_C_TILES
// The 2x2 tile's inner loop over `groups` groups of widened patch words (xp)
// and filter rows w0, w1 (advanced past what it reads): 32 MACs in 35
// instructions, two groups a step. GCC spills this loop (it needs 13 registers besides the
// loop bound), so on DSP cores it is written out, with the bound in memory.
inline void mac_2x2(const uint32_t* xp, int32_t groups, const int8_t*& w0, const int8_t*& w1,
                    int32_t& a00, int32_t& a01, int32_t& a10, int32_t& a11) {
#if MF_DSP_ASM
  const uint32_t* const end = xp + 4 * groups;
  uint32_t x0l, x0h, x1l, x1h, wv, wl;
#define MF_MAC_2X2_GROUP                              \
  "ldr %[wv], [%[w0]], #4\n\t"                         \
  "ldrd %[x0l], %[x0h], [%[xp]], #16\n\t"              \
  "ldrd %[x1l], %[x1h], [%[xp], #-8]\n\t"              \
  "sxtb16 %[wl], %[wv]\n\t"                            \
  "sxtb16 %[wv], %[wv], ror #8\n\t"                    \
  "smlad %[a00], %[x0l], %[wl], %[a00]\n\t"            \
  "smlad %[a00], %[x0h], %[wv], %[a00]\n\t"            \
  "smlad %[a10], %[x1l], %[wl], %[a10]\n\t"            \
  "smlad %[a10], %[x1h], %[wv], %[a10]\n\t"            \
  "ldr %[wv], [%[w1]], #4\n\t"                         \
  "sxtb16 %[wl], %[wv]\n\t"                            \
  "sxtb16 %[wv], %[wv], ror #8\n\t"                    \
  "smlad %[a01], %[x0l], %[wl], %[a01]\n\t"            \
  "smlad %[a01], %[x0h], %[wv], %[a01]\n\t"            \
  "smlad %[a11], %[x1l], %[wl], %[a11]\n\t"            \
  "smlad %[a11], %[x1h], %[wv], %[a11]\n\t"
  // An odd group first, then two groups per loop step.
  __asm__ volatile(
      "ldr %[wl], %[groups]\n\t"
      "tst %[wl], #1\n\t"
      "beq 2f\n\t"
      MF_MAC_2X2_GROUP
      "ldr %[wl], %[end]\n\t"
      "cmp %[xp], %[wl]\n\t"
      "beq 3f\n\t"
      "2:\n\t"
      MF_MAC_2X2_GROUP
      MF_MAC_2X2_GROUP
      "ldr %[wl], %[end]\n\t"
      "cmp %[xp], %[wl]\n\t"
      "bne 2b\n\t"
      "3:\n\t"
      : [a00] "+&r"(a00), [a01] "+&r"(a01), [a10] "+&r"(a10), [a11] "+&r"(a11), [xp] "+&r"(xp),
        [w0] "+&r"(w0), [w1] "+&r"(w1), [x0l] "=&r"(x0l), [x0h] "=&r"(x0h), [x1l] "=&r"(x1l),
        [x1h] "=&r"(x1h), [wv] "=&r"(wv), [wl] "=&r"(wl)
      : [end] "m"(end), [groups] "m"(groups)
      : "cc", "memory");
#undef MF_MAC_2X2_GROUP
#else
  for (int32_t g = groups; g > 0; --g, xp += 4) {
    uint32_t v = load4(w0);
    w0 += 4;
    uint32_t wl = sxtb16(v), wh = sxtb16_ror8(v);
    a00 = smlad(xp[1], wh, smlad(xp[0], wl, a00));
    a10 = smlad(xp[3], wh, smlad(xp[2], wl, a10));
    v = load4(w1);
    w1 += 4;
    wl = sxtb16(v);
    wh = sxtb16_ror8(v);
    a01 = smlad(xp[1], wh, smlad(xp[0], wl, a01));
    a11 = smlad(xp[3], wh, smlad(xp[2], wl, a11));
  }
#endif
}
#endif  // MF_CONV_C_TILES

#if MF_DSP_ASM
// The 2x2 tile over whole channel pairs with the short requantization, for the
// assembly routine below: its fields are read at fixed offsets (static_asserts).
struct PairJob {
  const uint32_t* words;      // the widened patch pair
  const uint32_t* words_end;  // words + 4 * groups (the last group zero-padded)
  const int8_t* w;            // the filter row of the next pair's first channel
  int32_t k;                  // filter row length
  const int32_t* table;       // the next pair's quick block (RequantTable, block 2)
  int8_t* y;                  // pixel 0's output of the next pair's first channel
  int32_t depth;              // pixel 1's outputs are `depth` bytes further (or elsewhere)
  int8_t* y_end;              // y after the last pair
  uint32_t lo4, hi4;          // the clamp bounds in each byte
  int32_t odd;                // groups is odd
};
static_assert(sizeof(PairJob) == 44 && offsetof(PairJob, lo4) == 32, "PairJob layout");

// One group of four patch elements for both channels of the pair: 16 MACs in
// 15 instructions. r0..r3: accumulators (pixel 0 / 1, channel c / c+1), r4:
// patch words, r5, r6: filter rows c and c+1, r7..r10: the group's patch
// words, r11, r12: a filter word widened.
#define MF_PAIR_GROUP                 \
  "ldm r4!, {r7, r8, r9, r10}\n\t"    \
  "ldr r11, [r5], #4\n\t"             \
  "sxtb16 r12, r11\n\t"               \
  "sxtb16 r11, r11, ror #8\n\t"       \
  "smlad r0, r7, r12, r0\n\t"         \
  "smlad r0, r8, r11, r0\n\t"         \
  "smlad r2, r9, r12, r2\n\t"         \
  "smlad r2, r10, r11, r2\n\t"        \
  "ldr r11, [r6], #4\n\t"             \
  "sxtb16 r12, r11\n\t"               \
  "sxtb16 r11, r11, ror #8\n\t"       \
  "smlad r1, r7, r12, r1\n\t"         \
  "smlad r1, r8, r11, r1\n\t"         \
  "smlad r3, r9, r12, r3\n\t"         \
  "smlad r3, r10, r11, r3\n\t"

// Shared by every routine below (undefined after the last, FULLY_CONNECTED's):
// doubled accumulator A with the short requantization (QuickRequant) of
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

// Accumulator A with the short requantization of (m, base, r) in M, B, R (lr
// scratch): doubled (the widened tiles) or not (the int8 ones).
#define MF_QUICK(A, M, B, R) MF_QUICK_T(A, M, B, R, "lr")
#define MF_QUICK_UNDOUBLED(A, M, B, R) MF_QUICK_UNDOUBLED_T(A, M, B, R, "lr")

// The four requantized outputs (r0..r3: pixel 0 / 1 x channel c / c+1) stored as
// two halfwords at y and y + depth (r8, r9): packed two by two, or, when
// clamped to the job's bounds (at [sp, #32]), all four in r0 for one clamp.
#define MF_PAIR_STORE_FULL_RANGE       \
  "bfi r0, r1, #8, #8\n\t"             \
  "bfi r2, r3, #8, #8\n\t"             \
  "ldrd r8, r9, [sp, #20]\n\t"         \
  "strh r2, [r8, r9]\n\t"              \
  "strh r0, [r8], #2\n\t"

#define MF_PAIR_STORE_CLAMPED          \
  "bfi r0, r1, #8, #8\n\t"             \
  "bfi r0, r2, #16, #8\n\t"            \
  "bfi r0, r3, #24, #8\n\t"            \
  "ldrd r4, r6, [sp, #32]\n\t"         \
  MF_CLAMP_BYTES("r0", "r4", "r6", "lr") \
  "ldrd r8, r9, [sp, #20]\n\t"         \
  "lsr r1, r0, #16\n\t"                \
  "strh r1, [r8, r9]\n\t"              \
  "strh r0, [r8], #2\n\t"

// The biases of the pair whose quick block is at [sp, #16] into r0..r3 (both
// pixels; BIASES: halved for the int8 tiles), the pointer moved to the block's
// short forms.
#define MF_PAIR_BIASES(BIASES)                   \
  "ldr ip, [sp, #16]\n\t"                        \
  "ldm ip!, {r0, r1, r2, r3}\n\t"                \
  BIASES                                         \
  "str ip, [sp, #16]\n\t"
#define MF_HALVE_BIASES "asr r0, r0, #1\n\tasr r1, r1, #1\n\tasr r2, r2, #1\n\tasr r3, r3, #1\n\t"

// After a pair's MACs (r0..r3): its short forms (at [sp, #16]), four outputs
// requantized and stored (STORE; y, depth, y_end at [sp, #20..28]), the next
// pair's biases (the blocks follow one another; two words more after the
// last: RequantTable, microforge.requant.quick_blocks); back to 1 for it until
// y_end. r5 is left alone.
#define MF_PAIR_OUTPUTS(QUICK, STORE, BIASES) \
  "ldr ip, [sp, #16]\n\t" \
  "ldm ip!, {r4, r6, r7, r8, r9, r10}\n\t" \
  QUICK("r0", "r4", "r6", "r7") \
  QUICK("r2", "r4", "r6", "r7") \
  QUICK("r1", "r8", "r9", "r10") \
  QUICK("r3", "r8", "r9", "r10") \
  STORE \
  "ldm ip!, {r0, r1, r2, r3}\n\t" \
  BIASES \
  "str ip, [sp, #16]\n\t" \
  "str r8, [sp, #20]\n\t" \
  "ldr lr, [sp, #28]\n\t" \
  "cmp r8, lr\n\t" \
  "bne 1b\n\t"

// Every channel pair of a PairJob (r0): accumulators from the biases, the
// groups (an odd one first, then two a step), four requantized outputs packed
// two by two into halfwords. The job is copied to the stack.
#define MF_PAIR_ROUTINE(STORE)                                                   \
  "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"                              \
  "ldm r0, {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11}\n\t"                   \
  "push {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11}\n\t"                      \
  MF_PAIR_BIASES(MF_HALVE_BIASES)                                                \
  "1:\n\t"                                                                       \
  "ldr r5, [sp, #8]\n\t"                                                         \
  "ldr lr, [sp, #12]\n\t"                                                        \
  "add r6, r5, lr\n\t"                                                           \
  "add ip, r6, lr\n\t"                                                           \
  "str ip, [sp, #8]\n\t"                                                         \
  "ldr r4, [sp, #0]\n\t"                                                         \
  "ldr lr, [sp, #4]\n\t"                                                         \
  "ldr r7, [sp, #40]\n\t"                                                        \
  "cmp r7, #0\n\t"                                                               \
  "beq 3f\n\t"                                                                   \
  MF_PAIR_GROUP                                                                  \
  "cmp r4, lr\n\t"                                                               \
  "beq 4f\n\t"                                                                   \
  "3:\n\t"                                                                       \
  MF_PAIR_GROUP                                                                  \
  MF_PAIR_GROUP                                                                  \
  "cmp r4, lr\n\t"                                                               \
  "bne 3b\n\t"                                                                   \
  "4:\n\t"                                                                       \
  MF_PAIR_OUTPUTS(MF_QUICK_UNDOUBLED, STORE, MF_HALVE_BIASES)                    \
  "add sp, sp, #44\n\t"                                                          \
  "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t"

// The tile routines a model's CONV_2D operators call (microforge.variants sets MF_MODEL_CONV_TILES):
// over the widened filter full range 1, clamped 2; over the int8 filter full range 4, clamped 8.
// One left out leaves its channel pairs to the C loop (same results).
#ifndef MF_MODEL_CONV_TILES
#define MF_MODEL_CONV_TILES 15
#endif

using PairRoutine = void (*)(const PairJob*);

#if MF_MODEL_CONV_TILES & 4
__attribute__((naked, noinline)) void pair_tiles_full_range(const PairJob*) {
  __asm__ volatile(MF_PAIR_ROUTINE(MF_PAIR_STORE_FULL_RANGE));
}
#endif

#if MF_MODEL_CONV_TILES & 8
__attribute__((naked, noinline)) void pair_tiles_clamped(const PairJob*) {
  __asm__ volatile(MF_PAIR_ROUTINE(MF_PAIR_STORE_CLAMPED));
}
#endif

// The int8 pair tiles for a full-range or clamped output, if built.
inline PairRoutine pair_tiles(bool full) {
  (void)full;
#if MF_MODEL_CONV_TILES & 4
  if (full) return pair_tiles_full_range;
#endif
#if MF_MODEL_CONV_TILES & 8
  if (!full) return pair_tiles_clamped;
#endif
  return nullptr;
}

// The same tiles over the generator's widened filter (ChannelQuant::wide): one
// LDM brings both channels' int16 pairs of a group, 16 MACs in 10 instructions,
// eight groups a step.
struct WideJob {
  const uint32_t* words;      // the widened patch pair
  const uint32_t* words_end;  // words + 4 * groups (the last group zero-padded)
  int32_t skip;               // (8 - groups % 8) % 8: groups the first pass jumps over
  const uint32_t* wide;       // the first pair's widened filter (4 words a group; the next pairs' follow)
  const int32_t* table;       // the next pair's quick block (RequantTable, block 2)
  int8_t* y;                  // pixel 0's output of the next pair's first channel
  int32_t depth;              // pixel 1's outputs are `depth` bytes further (or elsewhere)
  int8_t* y_end;              // y after the last pair
  uint32_t lo4, hi4;          // the clamp bounds in each byte
};
static_assert(sizeof(WideJob) == 40 && offsetof(WideJob, lo4) == 32 && offsetof(WideJob, table) == 16,
              "WideJob layout");

// r0..r3 accumulators, r4 patch words, r5 filter words, r7..r10 the group's
// patch words, r6 r11 r12 lr the group's filter pairs (channel c, c + 1).
#define MF_WIDE_GROUP                  \
  "ldm r4!, {r7, r8, r9, r10}\n\t"     \
  "ldm r5!, {r6, r11, r12, lr}\n\t"    \
  "smlad r0, r7, r6, r0\n\t"           \
  "smlad r0, r8, r11, r0\n\t"          \
  "smlad r2, r9, r6, r2\n\t"           \
  "smlad r2, r10, r11, r2\n\t"         \
  "smlad r1, r7, r12, r1\n\t"          \
  "smlad r1, r8, lr, r1\n\t"           \
  "smlad r3, r9, r12, r3\n\t"          \
  "smlad r3, r10, lr, r3\n\t"

// The groups run eight a step; the first step enters the unrolled body past
// `skip` groups (MF_WIDE_GROUP is 40 bytes: checked below), the entry computed
// once per job.
#define MF_WIDE_ROUTINE(STORE)                                                   \
  "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"                              \
  "ldm r0, {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10}\n\t"                        \
  "push {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10}\n\t"                           \
  "ldr r6, [sp, #8]\n\t"                                                         \
  "adr r5, 7f\n\t"                                                               \
  "add r6, r6, r6, lsl #2\n\t"                                                   \
  "add r6, r5, r6, lsl #3\n\t"                                                   \
  "orr r6, r6, #1\n\t"                                                           \
  "str r6, [sp, #8]\n\t"                                                         \
  "ldr r5, [sp, #12]\n\t"                                                        \
  MF_PAIR_BIASES("")                                                             \
  "1:\n\t"                                                                       \
  "ldr r4, [sp, #0]\n\t"                                                         \
  "ldr r6, [sp, #8]\n\t"                                                         \
  "bx r6\n\t"                                                                    \
  ".balign 4\n\t"                                                                \
  "7:\n\t"                                                                       \
  MF_WIDE_GROUP                                                                  \
  "9:\n\t"                                                                       \
  ".if (9b - 7b) != 40\n\t"                                                      \
  ".error \"MF_WIDE_GROUP must be 40 bytes\"\n\t"                                \
  ".endif\n\t"                                                                   \
  MF_WIDE_GROUP MF_WIDE_GROUP MF_WIDE_GROUP                                      \
  MF_WIDE_GROUP MF_WIDE_GROUP MF_WIDE_GROUP MF_WIDE_GROUP                        \
  "ldr r6, [sp, #4]\n\t"                                                         \
  "cmp r4, r6\n\t"                                                               \
  "bne 7b\n\t"                                                                   \
  MF_PAIR_OUTPUTS(MF_QUICK, STORE, "")                                                         \
  "add sp, sp, #40\n\t"                                                          \
  "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t"

using WideRoutine = void (*)(const WideJob*);

#if MF_MODEL_CONV_TILES & 1
__attribute__((naked, noinline)) void wide_tiles_full_range(const WideJob*) {
  __asm__ volatile(MF_WIDE_ROUTINE(MF_PAIR_STORE_FULL_RANGE));
}
#endif

#if MF_MODEL_CONV_TILES & 2
__attribute__((naked, noinline)) void wide_tiles_clamped(const WideJob*) {
  __asm__ volatile(MF_WIDE_ROUTINE(MF_PAIR_STORE_CLAMPED));
}
#endif

// The widened-filter tiles for a full-range or clamped output, if built.
inline WideRoutine wide_tiles(bool full) {
  (void)full;
#if MF_MODEL_CONV_TILES & 1
  if (full) return wide_tiles_full_range;
#endif
#if MF_MODEL_CONV_TILES & 2
  if (!full) return wide_tiles_clamped;
#endif
  return nullptr;
}

#undef MF_WIDE_ROUTINE
#undef MF_WIDE_GROUP
#undef MF_PAIR_ROUTINE
#undef MF_PAIR_OUTPUTS
#undef MF_PAIR_BIASES
#undef MF_HALVE_BIASES
#undef MF_PAIR_STORE_FULL_RANGE
#undef MF_PAIR_STORE_CLAMPED
#undef MF_QUICK
#undef MF_QUICK_UNDOUBLED
#undef MF_PAIR_GROUP
#endif  // MF_DSP_ASM

#if MF_DSP_ASM
// Bytes from a to b, for the assembly jobs (a pair's second pixel may write elsewhere).
inline int32_t distance(const int8_t* a, const int8_t* b) {
  return static_cast<int32_t>(reinterpret_cast<uintptr_t>(b) - reinterpret_cast<uintptr_t>(a));
}
#endif

#if MF_DSP_ASM
// PatchPair::widen_both's whole groups: r0, r1 the pixels' int8, r2 groups, r3
// the first word; the offset pair on the stack.
__attribute__((naked, noinline)) void widen_both_dsp(const int8_t*, const int8_t*, int32_t, uint32_t*, uint32_t) {
  __asm__ volatile(
      "push {r4, r5, r6, r7, r8, r9, lr}\n\t"
      "ldr lr, [sp, #28]\n\t"
      "1:\n\t"
      "ldr r4, [r0], #4\n\t"
      "ldr r5, [r1], #4\n\t"
      "sxtab16 r6, lr, r4\n\t"
      "sxtab16 r7, lr, r4, ror #8\n\t"
      "sxtab16 r8, lr, r5\n\t"
      "sxtab16 r9, lr, r5, ror #8\n\t"
      "stm r3!, {r6, r7, r8, r9}\n\t"
      "subs r2, r2, #1\n\t"
      "bne 1b\n\t"
      "pop {r4, r5, r6, r7, r8, r9, pc}\n\t");
}
#endif

// Patches (the input under the filter) of two output pixels, widened to
// int16 with the input offset added: for elements k..k+3 of a patch, the word
// (k, k+2) then the word (k+1, k+3), as SXTB16 / SXTB16 ROR 8 split a filter
// word; the two pixels' words alternate group by group, so a 2x2 tile reads
// one group of both pixels with one LDM and widens only the filter words.
// Padding taps hold 0 (the zero point plus the offset), so borders need no
// special case. Lives on the stack of conv_2d.
struct PatchPair {
  static constexpr int32_t kMaxPatch = 576;  // filter taps x input depth (3x3x64)

  uint32_t words[kMaxPatch];  // kMaxPatch / 4 groups x 4 words
  int32_t tail[2][3];         // the patch's last k % 4 elements, offset added

  // Pixel p's patch (k int8, k <= kMaxPatch; or 2 * kMaxPatch for p = 0 of a
  // single-pixel use, see fully_connected).
  void widen(int p, const int8_t* src, int32_t k, int32_t offset) {
    widen_with_offset(src, k, offset, words + 2 * p, 4, tail[p]);
  }

  // Pixel p's patch from staging (zero points after its k int8 to a multiple
  // of 4, widened as one more group) or, in place, from the input (`direct`).
  void widen_padded(int p, const int8_t* src, int32_t k, int32_t offset, bool direct) {
    if (direct || (k & 3) == 0) {
      widen(p, src, k, offset);
      return;
    }
    widen_with_offset(src, (k + 3) & ~3, offset, words + 2 * p, 4, tail[p]);
    for (int32_t t = 0; t < (k & 3); ++t) tail[p][t] = src[(k & ~3) + t] + offset;
  }

  // Both pixels' patches in one pass (k int8 each, k <= kMaxPatch).
  void widen_both(const int8_t* a, const int8_t* b, int32_t k, int32_t offset) {
    const uint32_t off2 = simd::pack16(offset, offset);
    uint32_t* dst = words;
#if MF_DSP_ASM
    if (k >= 4) widen_both_dsp(a, b, k >> 2, dst, off2);
    a += k & ~3;
    b += k & ~3;
    dst += k & ~3;
#else
    for (int32_t g = k >> 2; g > 0; --g, a += 4, b += 4, dst += 4) {
      const uint32_t va = load4(a), vb = load4(b);
      dst[0] = sxtab16(off2, va);
      dst[1] = sxtab16_ror8(off2, va);
      dst[2] = sxtab16(off2, vb);
      dst[3] = sxtab16_ror8(off2, vb);
    }
#endif
    if ((k & 3) == 0) return;
    widen_with_offset(a, k & 3, offset, dst, 4, tail[0]);
    widen_with_offset(b, k & 3, offset, dst + 2, 4, tail[1]);
  }

  // Both pixels, channels [c_begin, c_end) of `rows` (filter rows of k int8):
  // channel c's outputs to y0[c - c_begin] and y1[c - c_begin]. A filter with a
  // widened copy (`widened`) has its pairs in conv_2d_widened's tiles: what is
  // left of it here (an odd last channel, or the tiles not built) takes the C loop.
  MF_NOINLINE void output_pair(const int8_t* w, bool widened, int32_t k, int32_t rows,
                               const int32_t* bias, const RequantTable& rq, int32_t c_begin, int32_t c_end,
                               int8_t* y0, int8_t* y1) const {
    const int32_t groups = k >> 2, rest = k & 3;
    int32_t c = c_begin;
#if MF_DSP_ASM && (MF_MODEL_CONV_TILES & 12)
    if (rq.quick && !widened) {
      // Whole pairs; with k % 4 != 0 the rows are read to the next multiple of 4 (times the
      // zero padding), so the filter's last pair is left to the loop below.
      int32_t pairs = (c_end - c_begin) / 2;
      if (rest != 0 && c_begin + 2 * pairs == rows) --pairs;
      const PairRoutine tiles = pair_tiles(rq.full_range());
      if (pairs > 0 && tiles != nullptr) {
        const PairJob job = {words, words + 4 * (groups + (rest != 0)), w + c_begin * k, k,
                             rq.quick_block(c_begin - rq.first), y0, distance(y0, y1),
                             y0 + 2 * pairs, RequantTable::bytes4(rq.lo), RequantTable::bytes4(rq.hi),
                             (groups + (rest != 0)) & 1};
        tiles(&job);
        c += 2 * pairs;
      }
    }
#else
    (void)widened;  // read by the assembly only
    (void)rows;
#endif
#if !MF_CONV_C_TILES
    for (; c < c_end; ++c) {
      const int32_t b = bias != nullptr ? bias[c] : 0;
      y0[c - c_begin] = rq(c, dot_row(words, 4, groups, tail[0], rest, w + c * k, b));
      y1[c - c_begin] = rq(c, dot_row(words + 2, 4, groups, tail[1], rest, w + c * k, b));
    }
#else
    for (; c < c_end; c += 2) {
      const bool two = c + 1 < c_end;  // an odd last channel runs as a pair with itself
      const int8_t* w0 = w + c * k;
      const int8_t* w1 = two ? w0 + k : w0;
      int32_t a00 = bias != nullptr ? bias[c] : 0, a10 = a00;
      int32_t a01 = bias != nullptr && two ? bias[c + 1] : a00, a11 = a01;
      if (groups > 0) mac_2x2(words, groups, w0, w1, a00, a01, a10, a11);
      for (int32_t t = 0; t < rest; ++t) {
        a00 = mac(a00, tail[0][t], w0[t]);
        a10 = mac(a10, tail[1][t], w0[t]);
        a01 = mac(a01, tail[0][t], w1[t]);
        a11 = mac(a11, tail[1][t], w1[t]);
      }
      y0[c - c_begin] = rq(c, a00);
      y1[c - c_begin] = rq(c, a10);
      if (two) {
        y0[c + 1 - c_begin] = rq(c + 1, a01);
        y1[c + 1 - c_begin] = rq(c + 1, a11);
      }
    }
#endif
  }
};

// Short copies and fills of a patch's rows (a few bytes each: a library call
// would cost more than the bytes), kept as loops rather than turned into calls.
#if defined(__GNUC__) && !defined(__clang__)
#define MF_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define MF_NO_LIBCALLS
#endif

MF_NO_LIBCALLS inline void copy_bytes(int8_t* dst, const int8_t* src, int32_t n) {
  for (; n >= 4; n -= 4, dst += 4, src += 4) {
    const uint32_t v = load4(src);
    memcpy(dst, &v, sizeof(v));
  }
  for (; n > 0; --n) *dst++ = *src++;
}

MF_NO_LIBCALLS inline void fill_bytes(int8_t* dst, int8_t v, int32_t n) {
  for (; n > 0; --n) *dst++ = v;
}

inline int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }
inline int32_t min32(int32_t a, int32_t b) { return a < b ? a : b; }


#if MF_DSP_ASM
// PatchPlan::widen's groups (r0 the window, r1 the plan's words, r2 groups,
// r3 the first patch word; the offset pair on the stack): per group (off,
// second, shift), second = 0 for a group within one row.
__attribute__((naked, noinline)) void widen_planned_dsp(const int8_t*, const int32_t*, int32_t, uint32_t*,
                                                        uint32_t) {
  __asm__ volatile(
      "push {r4, r5, r6, r7, r8, lr}\n\t"
      "ldr lr, [sp, #24]\n\t"
      "1:\n\t"
      "ldm r1!, {r4, r5, r6}\n\t"
      "ldr r7, [r0, r4]\n\t"
      "cbz r5, 2f\n\t"
      "ldr r8, [r0, r5]\n\t"
      "rsb r4, r6, #32\n\t"
      "lsl r7, r7, r4\n\t"
      "lsr r7, r7, r4\n\t"
      "lsl r8, r8, r6\n\t"
      "orr r7, r7, r8\n\t"
      "2:\n\t"
      "sxtab16 r8, lr, r7\n\t"
      "sxtab16 r7, lr, r7, ror #8\n\t"
      "strd r8, r7, [r3], #16\n\t"
      "subs r2, r2, #1\n\t"
      "bne 1b\n\t"
      "pop {r4, r5, r6, r7, r8, pc}\n\t");
}
#endif

// A window's patch read straight from the input rows, word by word: group g
// (patch elements 4g..4g+3) at byte off from the window's top-left, its first
// bytes there and, when it spans two rows (rows of 3 bytes or more: never
// three), the rest from the next row's start. The last group's bytes past the
// patch are whatever follows it (the widened filter's zeros meet them), so
// reads reach 3 bytes past the window's last row.
struct PatchPlan {
  static constexpr int32_t kGroups = PatchPair::kMaxPatch / 4;
  int32_t words[3 * kGroups];  // per group: off, second (0: none), the first part's bits
  int32_t tail_off[3];         // the last k % 4 elements' offsets
  int32_t groups = 0;

  // False for rows under 3 bytes.
  bool make(int32_t k, int32_t f_row, int32_t in_row) {
    if (f_row < 3) return false;
    groups = (k + 3) >> 2;
    auto offset = [&](int32_t e) { return e / f_row * in_row + e % f_row; };
    for (int32_t g = 0; g < groups; ++g) {
      const int32_t e = 4 * g, n = f_row - e % f_row;
      const bool spans = n < 4 && e + n < k;
      words[3 * g] = offset(e);
      words[3 * g + 1] = spans ? offset(e + n) : 0;
      words[3 * g + 2] = 8 * n;
    }
    for (int32_t t = 0; t < (k & 3); ++t) tail_off[t] = offset((k & ~3) + t);
    return true;
  }

  // Widened with the offset added, as PatchPair::widen lays it out (dst: the
  // pixel's first word, groups 4 words apart), and the last k % 4 elements to tail.
  void widen(const int8_t* base, int32_t k, int32_t offset, uint32_t* dst, int32_t* tail) const {
    const uint32_t off2 = simd::pack16(offset, offset);
#if MF_DSP_ASM
    widen_planned_dsp(base, words, groups, dst, off2);
#else
    for (int32_t g = 0; g < groups; ++g, dst += 4) {
      const int32_t* w = words + 3 * g;
      uint32_t v = load4(base + w[0]);
      if (w[1] != 0) v = (v & ((1u << w[2]) - 1u)) | (load4(base + w[1]) << w[2]);
      dst[0] = sxtab16(off2, v);
      dst[1] = sxtab16_ror8(off2, v);
    }
#endif
    for (int32_t t = 0; t < (k & 3); ++t) tail[t] = base[tail_off[t]] + offset;
  }
};

// CONV_2D through widened patches (PatchPair): any two consecutive output
// pixels form a tile, padding included.
void conv_2d_widened(const conv_common::OpData& d, const conv_common::Params& p, const int8_t* x,
                     const int8_t* w, const int32_t* bias, const Requant& rq, int8_t* y,
                     PatchPair& patches, int8_t* staging, RequantTable& table) {
  const int32_t in_row = d.in_w * d.in_d, in_img = d.in_h * in_row;
  const int32_t k = d.f_h * d.f_w * d.in_d, f_row = d.f_w * d.in_d;
  const int32_t pixels = d.out_h * d.out_w;
  const bool pointwise = d.f_h == 1 && d.f_w == 1 && d.pad_h == 0 && d.pad_w == 0;
  const bool flat = pointwise && p.stride_w == 1 && p.stride_h == 1;  // the input's pixels are the patches
  const int8_t zero_point = static_cast<int8_t>(-d.input_offset);
  // One pixel's patch, as contiguous int8 in the filter's (row, column, depth)
  // order; in staging, zero points follow it to a multiple of 4.
  fill_bytes(staging + k, zero_point, ((k + 3) & ~3) - k);
  auto patch = [&](const int8_t* xb, int32_t oy, int32_t ox) -> const int8_t* {
    const int32_t y0 = oy * p.stride_h - d.pad_h, x0 = ox * p.stride_w - d.pad_w;
    if (pointwise) return xb + y0 * in_row + x0 * d.in_d;
    if (y0 >= 0 && x0 >= 0 && y0 + d.f_h <= d.in_h && x0 + d.f_w <= d.in_w) {
      const int8_t* src = xb + y0 * in_row + x0 * d.in_d;  // inside the input: whole rows
      for (int32_t ky = 0; ky < d.f_h; ++ky, src += in_row) copy_bytes(staging + ky * f_row, src, f_row);
      return staging;
    }
    const int32_t kx0 = max32(0, -x0), kx1 = min32(d.f_w, d.in_w - x0);
    for (int32_t ky = 0; ky < d.f_h; ++ky) {
      int8_t* row = staging + ky * f_row;
      const int32_t iy = y0 + ky;
      if (iy < 0 || iy >= d.in_h || kx0 >= kx1) {
        fill_bytes(row, zero_point, f_row);
        continue;
      }
      const int32_t before = kx0 * d.in_d, run = (kx1 - kx0) * d.in_d;
      fill_bytes(row, zero_point, before);
      copy_bytes(row + before, xb + iy * in_row + (x0 + kx0) * d.in_d, run);
      fill_bytes(row + before + run, zero_point, f_row - before - run);
    }
    return staging;
  };
  PatchPlan plan;
  const bool planned = !pointwise && plan.make(k, f_row, in_row);
  // Output channels in windows of RequantTable::kChannels (their requantization
  // decoded once); the patches are widened again for each window.
  for (int32_t c0 = 0; c0 < d.out_d; c0 += RequantTable::kChannels) {
    const int32_t c1 = min32(d.out_d, c0 + RequantTable::kChannels);
    // (a one-channel depthwise input's filter, run here, has no quick blocks from the plan)
    window_requant(table, rq, d.quick, c0, c1 - c0, {bias, w, k, k, 1, 2}, MF_QUICK_FILL || MF_FAST_DEPTH_MULTIPLIER);
    // Both pixels' outputs of channels [c0, c1): the widened filter's tiles run
    // straight from a job set once per window, the rest through output_pair.
    int32_t c_rest = c0;
#if MF_DSP_ASM
    const int32_t all = (k + 3) >> 2;
    WideJob job = {patches.words, patches.words + 4 * all, (8 - all % 8) % 8, d.wide + c0 / 2 * all * 4,
                   table.quick_block(0), nullptr, 0, nullptr, RequantTable::bytes4(table.lo),
                   RequantTable::bytes4(table.hi)};
    const WideRoutine tiles = wide_tiles(table.full_range());
    if (table.quick && d.wide != nullptr && tiles != nullptr) c_rest = c0 + ((c1 - c0) & ~1);
#endif
    auto outputs = [&](int8_t* y0, int8_t* y1) {
#if MF_DSP_ASM
      if (c_rest > c0) {
        job.y = y0;
        job.depth = distance(y0, y1);
        job.y_end = y0 + (c_rest - c0);
        tiles(&job);
      }
#endif
      if (c_rest < c1) {
        patches.output_pair(w, d.wide != nullptr, k, d.out_d, bias, table, c_rest, c1, y0 + (c_rest - c0),
                            y1 + (c_rest - c0));
      }
    };
    // Windows inside the input (and 3 bytes before its end) widened by the plan,
    // where the bytes past a patch meet zeros: the widened filter's, or the C
    // loop's, which reads whole groups and the tail only.
#if MF_DSP_ASM
    const bool past_ok = table.quick && d.wide != nullptr;
#else
    const bool past_ok = true;
#endif
    // (a filter larger than the input has no window inside it: the spans below would wrap)
    const bool use_plan = planned && past_ok && d.in_h >= d.f_h && d.in_w >= d.f_w;
    const int32_t stride_h = p.stride_h, stride_w = p.stride_w, pad_h = d.pad_h, pad_w = d.pad_w;
    const int32_t in_d = d.in_d, offset = d.input_offset;
    const uint32_t y_span = static_cast<uint32_t>(d.in_h - d.f_h), x_span = static_cast<uint32_t>(d.in_w - d.f_w);
    const int32_t last_at = d.batches * in_img - (d.f_h - 1) * in_row - f_row - 3;  // the last top-left read
    auto widen_pixel = [&](int slot, const int8_t* xb, int32_t oy, int32_t ox) __attribute__((always_inline)) {
      const int32_t y0 = oy * stride_h - pad_h, x0 = ox * stride_w - pad_w;
      const int32_t at = static_cast<int32_t>(xb - x) + y0 * in_row + x0 * in_d;
      if (use_plan && static_cast<uint32_t>(y0) <= y_span && static_cast<uint32_t>(x0) <= x_span && at <= last_at) {
        plan.widen(x + at, k, offset, patches.words + 2 * slot, patches.tail[slot]);
        return;
      }
      patches.widen_padded(slot, patch(xb, oy, ox), k, offset, pointwise);
    };
    for (int32_t b = 0; b < d.batches; ++b) {
      const int8_t* xb = x + b * in_img;
      int8_t* yb = y + b * pixels * d.out_d;
      int32_t oy = 0, ox = 0;  // pixel q's position
      auto next = [&] {
        if (++ox == d.out_w) ox = 0, ++oy;
      };
      for (int32_t q = 0; q < pixels; q += 2) {
        int8_t* y0 = yb + q * d.out_d + c0;
        if (flat) {
          // The input's pixels are the patches, one after another (an odd last
          // one paired with itself, the copy's outputs dropped).
          int8_t dropped[RequantTable::kChannels];
          const bool odd = q + 1 == pixels;
          patches.widen_both(xb + q * d.in_d, xb + (odd ? q : q + 1) * d.in_d, k, d.input_offset);
          outputs(y0, odd ? dropped : y0 + d.out_d);
          continue;
        }
        widen_pixel(0, xb, oy, ox);
        if (q + 1 == pixels) {
          int8_t dropped[RequantTable::kChannels];
          widen_pixel(1, xb, oy, ox);
          outputs(y0, dropped);
          continue;
        }
        next();
        widen_pixel(1, xb, oy, ox);
        next();
        outputs(y0, y0 + d.out_d);
      }
    }
  }
}

}  // namespace

// Dilated filters and patches over kMaxPatch elements are left to the reference kernel (and, with
// MF_MODEL_QUICK_FROM_PLAN, a node without the plan's quick blocks).
bool conv_2d_covers(const conv_common::OpData& d, const conv_common::Params& p) {
  return p.dilation_w == 1 && p.dilation_h == 1 && d.f_h * d.f_w * d.in_d <= PatchPair::kMaxPatch &&
         (MF_QUICK_FILL || d.quick != nullptr);
}

bool conv_2d(const conv_common::OpData& d, const conv_common::Params& p, const int8_t* x,
             const int8_t* w, const int32_t* bias, int8_t* y) {
  if (!conv_2d_covers(d, p)) return false;
  const Requant rq = op_requant(d);
  PatchPair patches;
  int8_t staging[PatchPair::kMaxPatch];
  RequantTable table;
  conv_2d_widened(d, p, x, w, bias, rq, y, patches, staging, table);
  return true;
}

namespace {

// DEPTHWISE_CONV_2D filter taps of one block of channels, widened once per
// call: for tap t and channels c..c+3 of the block, the words (w_c, w_c+2) and
// (w_c+1, w_c+3), as SXTAB16 / SXTAB16 ROR 8 split an input word. Blocks are 32
// channels (16 words a tap), fewer for filters with more than 25 taps.
struct DepthwiseTaps {
  static constexpr int32_t kWords = 400;
  static constexpr int32_t kMaxBlock = 32;
  uint32_t words[kWords];
  int32_t stride = 0;  // words per tap: the block's channels / 2

  // Channels per block for a filter of `taps` taps (a multiple of 4; 0: too many taps).
  static int32_t block_for(int32_t taps) {
    const int32_t b = (2 * kWords / taps) & ~3;
    return b < kMaxBlock ? b : kMaxBlock;
  }

  const uint32_t* at(int32_t tap, int32_t g) const { return words + tap * stride + g / 2; }

  void widen(const int8_t* w, int32_t taps, int32_t depth, int32_t c0, int32_t n, int32_t block) {
    stride = block / 2;
    for (int32_t t = 0; t < taps; ++t) {
      const int8_t* src = w + t * depth + c0;
      uint32_t* dst = words + t * stride;
      for (int32_t g = 0; g < n; g += 4) {
        const uint32_t v = load4(src + g);
        dst[g / 2] = sxtb16(v);
        dst[g / 2 + 1] = sxtb16_ror8(v);
      }
    }
  }
};

// Channels c..c+3 of a depthwise group: accumulators from their biases (or 0),
// and the four requantized outputs.
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

#if MF_DEPTHWISE_BLOCKS || MF_FAST_DEPTH_MULTIPLIER
inline void store4(const RequantTable& rq, int32_t c, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                   int8_t* out) {
  out[c] = rq(c, a0);
  out[c + 1] = rq(c + 1, a1);
  out[c + 2] = rq(c + 2, a2);
  out[c + 3] = rq(c + 3, a3);
}
#endif

// DEPTHWISE_CONV_2D 3x3 with depth multiplier 1, an output row at a time: the
// three input rows under it are staged in a band, widened with the input offset
// added (padding rows and columns hold 0, so borders need no special case), and
// one routine runs every group of four channels over every pixel of the row.
//
// Layout, for a block of up to kMaxGroups groups and `cols` input columns: group
// by group, three slots (input row iy in slot iy mod 3, kept while the next
// output rows need it), each `cols` columns of two words: (x_c, x_c+2) and
// (x_c+1, x_c+3) + offset, as SXTAB16 / SXTAB16 ROR 8 split an input word. The
// taps: group by group, tap by tap, the filter's words split the same way.
#if MF_DSP_ASM
// Band3x3::widen_columns: two columns a step (r0 src, r1 depth, r2 groups, r3
// columns; dst, group bytes and the offset pair on the stack).
__attribute__((naked, noinline)) void widen_columns_dsp(const int8_t*, int32_t, int32_t, int32_t, uint32_t*,
                                                        int32_t, uint32_t) {
  __asm__ volatile(
      "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
      "ldr r4, [sp, #36]\n\t"
      "ldr r5, [sp, #40]\n\t"
      "ldr r6, [sp, #44]\n\t"
      "1:\n\t"
      "mov r7, r0\n\t"
      "mov r8, r4\n\t"
      "lsrs lr, r3, #1\n\t"
      "beq 3f\n\t"
      "2:\n\t"
      "ldr r10, [r7]\n\t"
      "ldr ip, [r7, r1]\n\t"
      "add r7, r7, r1, lsl #1\n\t"
      "sxtab16 r9, r6, r10\n\t"
      "sxtab16 r10, r6, r10, ror #8\n\t"
      "sxtab16 r11, r6, ip\n\t"
      "sxtab16 ip, r6, ip, ror #8\n\t"
      "stm r8!, {r9, r10, r11, ip}\n\t"
      "subs lr, lr, #1\n\t"
      "bne 2b\n\t"
      "3:\n\t"
      "tst r3, #1\n\t"
      "beq 4f\n\t"
      "ldr r10, [r7]\n\t"
      "sxtab16 r9, r6, r10\n\t"
      "sxtab16 r10, r6, r10, ror #8\n\t"
      "strd r9, r10, [r8]\n\t"
      "4:\n\t"
      "add r0, r0, #4\n\t"
      "add r4, r4, r5\n\t"
      "subs r2, r2, #1\n\t"
      "bne 1b\n\t"
      "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#endif

struct Band3x3 {
  static constexpr int32_t kWords = 640;  // one group fits up to 106 columns
  static constexpr int32_t kMaxGroups = 8;
  uint32_t words[kWords];
  uint32_t taps[kMaxGroups * 18];
  int32_t cols = 0;              // columns a slot holds
  int32_t slot_row[3] = {0, 0, 0};  // the input row each slot holds

  int32_t group_words() const { return 6 * cols; }
  uint32_t* slot(int32_t g, int32_t s) { return words + g * group_words() + s * 2 * cols; }

  // Doubled for the assembly's short requantization (QuickRequant), else as they are.
  void widen_taps(const int8_t* w, int32_t depth, int32_t c0, int32_t groups, bool doubled) {
    const uint32_t mask = doubled ? 0xFFFEFFFEu : 0xFFFFFFFFu;  // each int16 lane shifted alone
    const int32_t shift = doubled ? 1 : 0;
    for (int32_t g = 0; g < groups; ++g) {
      for (int32_t t = 0; t < 9; ++t) {
        const uint32_t v = load4(w + t * depth + c0 + 4 * g);
        taps[g * 18 + 2 * t] = (sxtb16(v) << shift) & mask;
        taps[g * 18 + 2 * t + 1] = (sxtb16_ror8(v) << shift) & mask;
      }
    }
  }

  // The band's columns [j0, j1) that lie inside the input, for a run from input column ix0.
  void input_columns(const conv_common::OpData& d, int32_t ix0, int32_t* j0, int32_t* j1) const {
    *j0 = min32(max32(-ix0, 0), cols);
    *j1 = max32(min32(d.in_w - ix0, cols), *j0);
  }

  // A new run from input column ix0: every slot empty, its padding columns
  // (outside [j0, j1)) zero, and they stay so.
  void clear(const conv_common::OpData& d, int32_t ix0, int32_t groups) {
    slot_row[0] = slot_row[1] = slot_row[2] = INT32_MIN;
    int32_t j0, j1;
    input_columns(d, ix0, &j0, &j1);
    // A slot's right padding and the next one's left padding are one run of words.
    fill_words(words, 2 * j0);
    for (int32_t i = 1; i <= 3 * groups; ++i) {
      fill_words(words + i * 2 * cols - 2 * (cols - j1), 2 * (cols - j1) + (i < 3 * groups ? 2 * j0 : 0));
    }
  }

  // Input row iy from input column ix0, channels c0.. of `groups` groups, into
  // slot s (iy mod 3; the caller skips a slot that holds it already); rows
  // outside the input as 0.
  void stage(const conv_common::OpData& d, const int8_t* xb, int32_t iy, int32_t s, int32_t ix0, int32_t c0,
             int32_t groups, uint32_t off2) {
    slot_row[s] = iy;
    int32_t j0, j1;
    input_columns(d, ix0, &j0, &j1);
    uint32_t* dst = slot(0, s) + 2 * j0;
    if (iy < 0 || iy >= d.in_h) {
      for (int32_t g = 0; g < groups; ++g) fill_words(dst + g * group_words(), 2 * (j1 - j0));
      return;
    }
    widen_columns(xb + (iy * d.in_w + ix0 + j0) * d.in_d + c0, d.in_d, groups, j1 - j0, dst, group_words(), off2);
  }

 private:
  // n (even) words of zeros.
  MF_NO_LIBCALLS static void fill_words(uint32_t* dst, int32_t n) {
    for (; n > 0; n -= 2, dst += 2) {
      dst[0] = 0;
      dst[1] = 0;
    }
  }

  // n columns (depth bytes apart) of `groups` words each, widened: group g's
  // column j to dst[g * group_words + 2j], +1.
  static void widen_columns(const int8_t* src, int32_t depth, int32_t groups, int32_t n, uint32_t* dst,
                            int32_t group_words, uint32_t off2) {
#if MF_DSP_ASM
    widen_columns_dsp(src, depth, groups, n, dst, 4 * group_words, off2);
#else
    for (int32_t g = 0; g < groups; ++g, src += 4, dst += group_words) {
      const int8_t* sp = src;
      uint32_t* dp = dst;
      for (int32_t j = n; j > 0; --j, sp += depth, dp += 2) {
        const uint32_t v = load4(sp);
        dp[0] = sxtab16(off2, v);
        dp[1] = sxtab16_ror8(off2, v);
      }
    }
#endif
  }
};

// One output row of a block, for the routine below (fields at fixed offsets).
struct DepthwiseRowJob {
  int32_t out_step;         // bytes from one output pixel to the next (the depth)
  const uint32_t* x[3];     // group 0's slots for filter rows 0..2, at the first pixel's column
  int32_t group_bytes;      // from one group's slots to the next's
  int32_t step;             // bytes from one pixel's columns to the next's: 8 * stride
  const uint32_t* taps;     // group 0's widened taps (18 words a group)
  const int32_t* table;     // group 0's quick block (RequantTable, block 4: 16 words a group)
  int8_t* out;              // group 0's output at the first pixel
  int32_t groups, width;    // groups in the block, output pixels in the row (both >= 1)
  uint32_t lo4, hi4;        // the clamp bounds in each byte
};

// The row in C++: any requantization (also the general form).
void depthwise_row(const DepthwiseRowJob& j, const int32_t* bias, const RequantTable& rq, int32_t c0) {
  for (int32_t g = 0; g < j.groups; ++g) {
    const int32_t c = c0 + 4 * g;
    const uint32_t* tw = j.taps + 18 * g;
    for (int32_t ox = 0; ox < j.width; ++ox) {
      int32_t a0, a1, a2, a3;
      bias4(bias, c, a0, a1, a2, a3);
      for (int32_t ky = 0; ky < 3; ++ky) {
        const uint32_t* xr = j.x[ky] + (g * j.group_bytes + ox * j.step) / 4;
        for (int32_t kx = 0; kx < 3; ++kx) {
          const uint32_t* xv = xr + 2 * kx;
          const uint32_t* wv = tw + 6 * ky + 2 * kx;
          a0 = smlabb(xv[0], wv[0], a0);
          a2 = smlatt(xv[0], wv[0], a2);
          a1 = smlabb(xv[1], wv[1], a1);
          a3 = smlatt(xv[1], wv[1], a3);
        }
      }
      int8_t* o = j.out + ox * j.out_step + 4 * g;
      o[0] = rq(c, a0);
      o[1] = rq(c + 1, a1);
      o[2] = rq(c + 2, a2);
      o[3] = rq(c + 3, a3);
    }
  }
}

#if MF_DSP_ASM
static_assert(sizeof(DepthwiseRowJob) == 52 && offsetof(DepthwiseRowJob, lo4) == 44,
              "DepthwiseRowJob layout");

// One tap for four channels: band words from X + XOFF, taps from r7 + WOFF;
// r0..r3 accumulators (channels c, c+1, c+2, c+3). 4 MACs in 6 instructions.
#define MF_DWR_TAP(X, XOFF, WOFF)         \
  "ldrd r8, r9, [" X ", #" XOFF "]\n\t"   \
  "ldrd r10, r11, [r7, #" WOFF "]\n\t"    \
  "smlabb r0, r8, r10, r0\n\t"            \
  "smlatt r2, r8, r10, r2\n\t"            \
  "smlabb r1, r9, r11, r1\n\t"            \
  "smlatt r3, r9, r11, r3\n\t"

#define MF_DWR_QUICK(A) "ldm ip!, {r8, r9, r10}\n\t" MF_QUICK_T(A, "r8", "r9", "r10", "r11")

// The job is copied below two scratch words (pixels left, output): field i at
// [sp, #8 + 4i]. r4..r6 the three rows' band words, r7 the group's taps, lr its
// quick block (biases doubled, then (m, base, r) per channel).
#define MF_DWR_ROUTINE(CLAMP) \
  "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t" \
  "ldm r0, {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, lr}\n\t" \
  "push {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, lr}\n\t" \
  "sub sp, sp, #8\n\t" \
  "ldrd r7, lr, [sp, #32]\n\t" \
  "1:\n\t" \
  "ldrd r4, r5, [sp, #12]\n\t" \
  "ldr r6, [sp, #20]\n\t" \
  "ldr ip, [sp, #40]\n\t" \
  "str ip, [sp, #4]\n\t" \
  "ldr ip, [sp, #48]\n\t" \
  "str ip, [sp, #0]\n\t" \
  "2:\n\t" \
  "ldm lr, {r0, r1, r2, r3}\n\t" \
  MF_DWR_TAP("r4", "0", "0") MF_DWR_TAP("r4", "8", "8") MF_DWR_TAP("r4", "16", "16") \
  MF_DWR_TAP("r5", "0", "24") MF_DWR_TAP("r5", "8", "32") MF_DWR_TAP("r5", "16", "40") \
  MF_DWR_TAP("r6", "0", "48") MF_DWR_TAP("r6", "8", "56") MF_DWR_TAP("r6", "16", "64") \
  "add ip, lr, #16\n\t" \
  MF_DWR_QUICK("r0") MF_DWR_QUICK("r1") MF_DWR_QUICK("r2") MF_DWR_QUICK("r3") \
  "bfi r0, r1, #8, #8\n\t" \
  "bfi r0, r2, #16, #8\n\t" \
  "bfi r0, r3, #24, #8\n\t" \
  CLAMP \
  "ldrd r8, r9, [sp, #4]\n\t" \
  "str r0, [r8]\n\t" \
  "add r8, r8, r9\n\t" \
  "str r8, [sp, #4]\n\t" \
  "ldr ip, [sp, #28]\n\t" \
  "add r4, r4, ip\n\t" \
  "add r5, r5, ip\n\t" \
  "add r6, r6, ip\n\t" \
  "ldr ip, [sp, #0]\n\t" \
  "subs ip, ip, #1\n\t" \
  "str ip, [sp, #0]\n\t" \
  "bne 2b\n\t" \
  "ldr ip, [sp, #24]\n\t" \
  "ldrd r4, r5, [sp, #12]\n\t" \
  "ldr r6, [sp, #20]\n\t" \
  "add r4, r4, ip\n\t" \
  "add r5, r5, ip\n\t" \
  "add r6, r6, ip\n\t" \
  "strd r4, r5, [sp, #12]\n\t" \
  "str r6, [sp, #20]\n\t" \
  "add r7, r7, #72\n\t" \
  "add lr, lr, #64\n\t" \
  "ldr ip, [sp, #40]\n\t" \
  "add ip, ip, #4\n\t" \
  "str ip, [sp, #40]\n\t" \
  "ldr ip, [sp, #44]\n\t" \
  "subs ip, ip, #1\n\t" \
  "str ip, [sp, #44]\n\t" \
  "bne 1b\n\t" \
  "add sp, sp, #60\n\t" \
  "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t"

#define MF_DWR_CLAMP "ldrd r8, r9, [sp, #52]\n\t" MF_CLAMP_BYTES("r0", "r8", "r9", "r10")

// The routines a model's 3x3 DEPTHWISE_CONV_2D operators call (microforge.variants sets
// MF_MODEL_DEPTHWISE_ROWS): full range 1, clamped 2. One left out leaves its rows to depthwise_row.
#ifndef MF_MODEL_DEPTHWISE_ROWS
#define MF_MODEL_DEPTHWISE_ROWS 3
#endif

using RowRoutine = void (*)(const DepthwiseRowJob*);

#if MF_MODEL_DEPTHWISE_ROWS & 1
__attribute__((naked, noinline)) void depthwise_rows_full_range(const DepthwiseRowJob*) {
  __asm__ volatile(MF_DWR_ROUTINE(""));
}
#endif

#if MF_MODEL_DEPTHWISE_ROWS & 2
__attribute__((naked, noinline)) void depthwise_rows_clamped(const DepthwiseRowJob*) {
  __asm__ volatile(MF_DWR_ROUTINE(MF_DWR_CLAMP));
}
#endif

// The rows routine for a quick table's full-range or clamped output, if built.
inline RowRoutine depthwise_rows(const RequantTable& table) {
  if (!table.quick) return nullptr;
#if MF_MODEL_DEPTHWISE_ROWS & 1
  if (table.full_range()) return depthwise_rows_full_range;
#endif
#if MF_MODEL_DEPTHWISE_ROWS & 2
  if (!table.full_range()) return depthwise_rows_clamped;
#endif
  return nullptr;
}

#undef MF_DWR_ROUTINE
#undef MF_DWR_CLAMP
#undef MF_DWR_QUICK
#undef MF_DWR_TAP
#endif  // MF_DSP_ASM

// The channels in whole groups of a 3x3, depth multiplier 1 DEPTHWISE_CONV_2D:
// blocks of groups whose band fits, output rows in runs of pixels whose
// columns fit one group's slots.
MF_NOINLINE void depthwise_3x3_rows(const conv_common::OpData& d, const conv_common::Params& p,
                                    const int8_t* x, const int8_t* w, const int32_t* bias, const Requant& rq,
                                    int8_t* y) {
  const int32_t depth = d.out_d, groups_total = depth / 4;
  const uint32_t off2 = simd::pack16(d.input_offset, d.input_offset);
  const int32_t run = min32(d.out_w, (Band3x3::kWords / 6 - 3) / p.stride_w + 1);
  Band3x3 band;
  band.cols = (run - 1) * p.stride_w + 3;
  const int32_t per_block = min32(Band3x3::kMaxGroups, Band3x3::kWords / band.group_words());
  RequantTable table;
  for (int32_t g0 = 0; g0 < groups_total; g0 += per_block) {
    const int32_t groups = min32(per_block, groups_total - g0), c0 = 4 * g0;
    window_requant(table, rq, d.quick, c0, 4 * groups, {bias, w, 9, 1, depth, 4});
    // Taps doubled for the assembly rows only (depthwise_row takes them as they are).
#if MF_DSP_ASM
    const RowRoutine rows = depthwise_rows(table);
    band.widen_taps(w, depth, c0, groups, rows != nullptr);
#else
    band.widen_taps(w, depth, c0, groups, false);
#endif
    for (int32_t b = 0; b < d.batches; ++b) {
      const int8_t* xb = x + b * d.in_h * d.in_w * depth;
      for (int32_t ox0 = 0; ox0 < d.out_w; ox0 += run) {
        const int32_t ix0 = ox0 * p.stride_w - d.pad_w;
        band.clear(d, ix0, groups);
        DepthwiseRowJob job;
        job.out_step = depth;
        job.group_bytes = 4 * band.group_words();
        job.step = 8 * p.stride_w;
        job.taps = band.taps;
        job.table = table.quick ? table.quick_block(0) : nullptr;
        job.groups = groups;
        job.width = min32(run, d.out_w - ox0);
        job.lo4 = RequantTable::bytes4(table.lo);
        job.hi4 = RequantTable::bytes4(table.hi);
        int8_t* out = y + (b * d.out_h * d.out_w + ox0) * depth + c0;
        for (int32_t oy = 0; oy < d.out_h; ++oy, out += d.out_w * depth) {
          const int32_t iy0 = oy * p.stride_h - d.pad_h;
          int32_t s = ((iy0 % 3) + 3) % 3;  // input row iy's slot: iy mod 3
          for (int32_t ky = 0; ky < 3; ++ky, s = s == 2 ? 0 : s + 1) {
            if (band.slot_row[s] != iy0 + ky) band.stage(d, xb, iy0 + ky, s, ix0, c0, groups, off2);
            job.x[ky] = band.slot(0, s);
          }
          job.out = out;
#if MF_DSP_ASM
          if (rows != nullptr) {
            rows(&job);
            continue;
          }
#endif
          depthwise_row(job, bias, table, c0);
        }
      }
    }
  }
}

// Whether depthwise_3x3_rows takes a depth multiplier 1 operator (its whole groups of 4 channels).
inline bool rows_3x3(const conv_common::OpData& d) { return d.f_h == 3 && d.f_w == 3 && d.out_d >= 4; }

#if MF_DEPTHWISE_BLOCKS
// Channels c0..c0+n-1 (n a multiple of 4, within one block) of one output pixel
// over its valid taps (rows x cols from input xt and tap index t0, filter
// width f_w): one input word and two widened filter words give four MACs.
MF_NOINLINE void depthwise_pixel(const DepthwiseTaps& taps, const int8_t* xt, int32_t t0, int32_t rows,
                            int32_t cols, int32_t f_w, int32_t depth, int32_t in_row, uint32_t off2,
                            const int32_t* bias, const RequantTable& rq, int32_t c0, int32_t n,
                            int8_t* out) {
  for (int32_t g = 0; g < n; g += 4) {
    const int32_t c = c0 + g;
    int32_t a0, a1, a2, a3;
    bias4(bias, c, a0, a1, a2, a3);
    const int8_t* xr = xt + g;
    const uint32_t* wr = taps.at(t0, g);
    for (int32_t r = rows; r > 0; --r, xr += in_row, wr += f_w * taps.stride) {
      const int8_t* xp = xr;
      const uint32_t* wp = wr;
      for (int32_t k = cols; k > 0; --k, xp += depth, wp += taps.stride) {
        const uint32_t xv = load4(xp);
        const uint32_t xl = sxtab16(off2, xv), xh = sxtab16_ror8(off2, xv);
        a0 = smlabb(xl, wp[0], a0);
        a2 = smlatt(xl, wp[0], a2);
        a1 = smlabb(xh, wp[1], a1);
        a3 = smlatt(xh, wp[1], a3);
      }
    }
    store4(rq, c, a0, a1, a2, a3, out);
  }
}

// The filter window of every output pixel, clipped to the input: fn(xb, w, out)
// with the batch's input, the window (top-left input position, valid filter
// rows and columns) and the pixel's first output.
struct Window {
  int32_t y0, x0;
  int32_t ky0, ky1, kx0, kx1;
};

template <typename Fn>
inline void for_each_output_pixel(const conv_common::OpData& d, const conv_common::Params& p,
                                  const int8_t* x, int8_t* y, Fn&& fn) {
  const int32_t in_img = d.in_h * d.in_w * d.in_d;
  for (int32_t b = 0; b < d.batches; ++b) {
    const int8_t* xb = x + b * in_img;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      Window win;
      win.y0 = oy * p.stride_h - d.pad_h;
      win.ky0 = max32(0, -win.y0);
      win.ky1 = min32(d.f_h, d.in_h - win.y0);
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        win.x0 = ox * p.stride_w - d.pad_w;
        win.kx0 = max32(0, -win.x0);
        win.kx1 = min32(d.f_w, d.in_w - win.x0);
        fn(xb, win, y + ((b * d.out_h + oy) * d.out_w + ox) * d.out_d);
      }
    }
  }
}
#endif  // MF_DEPTHWISE_BLOCKS

#if MF_FAST_DEPTH_MULTIPLIER
// DEPTHWISE_CONV_2D with a depth multiplier m that is a multiple of 4: output
// channels ic*m .. ic*m+m-1 all read input channel ic, so a group of four reads
// one input value, offset and copied into both halves of a word.
MF_NOINLINE void depthwise_multiplier(const conv_common::OpData& d, const conv_common::Params& p,
                          const int8_t* x, const int8_t* w, const int32_t* bias, const Requant& requant,
                          DepthwiseTaps& taps, RequantTable& rq, int8_t* y) {
  const int32_t depth = d.out_d, m = p.depth_multiplier;
  const int32_t in_row = d.in_w * d.in_d, in_img = d.in_h * in_row;
  const int32_t block = DepthwiseTaps::block_for(d.f_h * d.f_w);
  for (int32_t c0 = 0; c0 < depth; c0 += block) {
    const int32_t n = min32(block, depth - c0);
    taps.widen(w, d.f_h * d.f_w, depth, c0, n, block);
    rq.fill(requant, c0, n);
    for (int32_t b = 0; b < d.batches; ++b) {
      const int8_t* xb = x + b * in_img;
      for (int32_t oy = 0; oy < d.out_h; ++oy) {
        const int32_t y0 = oy * p.stride_h - d.pad_h;
        const int32_t ky0 = max32(0, -y0), ky1 = min32(d.f_h, d.in_h - y0);
        for (int32_t ox = 0; ox < d.out_w; ++ox) {
          const int32_t x0 = ox * p.stride_w - d.pad_w;
          const int32_t kx0 = max32(0, -x0), kx1 = min32(d.f_w, d.in_w - x0);
          int8_t* out = y + ((b * d.out_h + oy) * d.out_w + ox) * depth;
          for (int32_t g = 0; g < n; g += 4) {
            const int32_t c = c0 + g;
            const int8_t* xc = xb + c / m;
            int32_t a0, a1, a2, a3;
            bias4(bias, c, a0, a1, a2, a3);
            for (int32_t ky = ky0; ky < ky1; ++ky) {
              const int8_t* xr = xc + (y0 + ky) * in_row;
              const uint32_t* wr = taps.at(ky * d.f_w, g);
              for (int32_t kx = kx0; kx < kx1; ++kx) {
                const int32_t v = xr[(x0 + kx) * d.in_d] + d.input_offset;
                const uint32_t vv = simd::pack16(v, v);
                const uint32_t* wp = wr + kx * taps.stride;
                a0 = smlabb(vv, wp[0], a0);
                a2 = smlatt(vv, wp[0], a2);
                a1 = smlabb(vv, wp[1], a1);
                a3 = smlatt(vv, wp[1], a3);
              }
            }
            store4(rq, c, a0, a1, a2, a3, out);
          }
        }
      }
    }
  }
}
#endif  // MF_FAST_DEPTH_MULTIPLIER

}  // namespace

bool depthwise_conv_2d_covers(const conv_common::OpData& d, const conv_common::Params& p) {
  const bool multiplier_ok =
      p.depth_multiplier == 1 || (MF_FAST_DEPTH_MULTIPLIER && p.depth_multiplier % 4 == 0);
  // Without the general path, depth multiplier 1 only where the 3x3 rows take every channel.
  const bool layout_ok = MF_DEPTHWISE_BLOCKS || p.depth_multiplier != 1 || (rows_3x3(d) && d.out_d % 4 == 0);
  const bool quick_ok = MF_QUICK_FILL || p.depth_multiplier != 1 || d.quick != nullptr;
  return p.dilation_w == 1 && p.dilation_h == 1 && DepthwiseTaps::block_for(d.f_h * d.f_w) != 0 &&
         multiplier_ok && layout_ok && quick_ok;
}

namespace {

#if MF_FAST_DEPTH_MULTIPLIER
// A one-channel input's DEPTHWISE_CONV_2D (depth multiplier = output depth, as
// person_detect's first layer) is a CONV_2D whose filter rows are the depthwise
// filter's columns: transposed here (out_d * taps bytes), then the CONV_2D tiles.
constexpr int32_t kMaxTransposed = 640;  // micro_speech: 8 channels x 80 taps

#if MF_DSP_ASM
constexpr int32_t kMaxWideTransposed = 512;

// Words of a widened CONV_2D filter of `channels` rows of k int8 (an odd last row left out).
int32_t wide_words(int32_t channels, int32_t k) { return channels / 2 * ((k + 3) / 4) * 4; }

// Filter rows widened in ChannelQuant::wide's layout (microforge.filters): per
// channel pair, per group of four elements (zero-padded), (w_c[k], w_c[k+2]),
// (w_c[k+1], w_c[k+3]), then the same of channel c + 1; doubled.
void widen_filter_rows(const int8_t* rows, int32_t channels, int32_t k, uint32_t* out) {
  for (int32_t c = 0; c + 1 < channels; c += 2) {
    for (int32_t g = 0; g < k; g += 4) {
      for (int32_t ch = c; ch < c + 2; ++ch) {
        int32_t e[4] = {0, 0, 0, 0};
        for (int32_t i = 0; i < 4 && g + i < k; ++i) e[i] = rows[ch * k + g + i];
        *out++ = simd::pack16(2 * e[0], 2 * e[2]);  // doubled, as the generator's
        *out++ = simd::pack16(2 * e[1], 2 * e[3]);
      }
    }
  }
}
#endif

bool single_channel_input(const conv_common::OpData& d, const conv_common::Params& p) {
  return d.in_d == 1 && p.depth_multiplier == d.out_d && d.out_d * d.f_h * d.f_w <= kMaxTransposed &&
         d.f_h * d.f_w <= PatchPair::kMaxPatch;
}

MF_NOINLINE void depthwise_single_channel(const conv_common::OpData& d, const conv_common::Params& p,
                                          const int8_t* x, const int8_t* w, const int32_t* bias,
                                          const Requant& rq, int8_t* y) {
  const int32_t taps = d.f_h * d.f_w;
  int8_t rows[kMaxTransposed];
  for (int32_t c = 0; c < d.out_d; ++c) {
    for (int32_t t = 0; t < taps; ++t) rows[c * taps + t] = w[t * d.out_d + c];
  }
  conv_common::OpData cd = d;
  cd.quick = nullptr;  // the generator's blocks are the depthwise layout (4 channels a block)
  cd.wide = nullptr;
#if MF_DSP_ASM
  // Widened as the generator widens CONV_2D filters, when small enough to keep here.
  uint32_t wide[kMaxWideTransposed];
  if (wide_words(d.out_d, taps) <= kMaxWideTransposed) {
    widen_filter_rows(rows, d.out_d, taps, wide);
    cd.wide = wide;
  }
#endif
  PatchPair patches;
  int8_t staging[PatchPair::kMaxPatch];
  RequantTable table;
  conv_2d_widened(cd, p, x, rows, bias, rq, y, patches, staging, table);
}
#endif

#if MF_DEPTHWISE_BLOCKS
// Depth multiplier 1: channels from `first` in blocks of DepthwiseTaps (widened
// once per block), every output pixel of a block, the last depth % 4 channels
// one by one.
MF_NOINLINE void depthwise_blocks(const conv_common::OpData& d, const conv_common::Params& p,
                                  const int8_t* x, const int8_t* w, const int32_t* bias, const Requant& rq,
                                  int8_t* y, int32_t first) {
  const int32_t depth = d.out_d;  // == in_d
  const int32_t in_row = d.in_w * depth, f_row = d.f_w * depth;
  const uint32_t off2 = simd::pack16(d.input_offset, d.input_offset);
  const int32_t wide = depth & ~3;  // channels in words; the last depth % 4 one by one
  DepthwiseTaps taps;
  RequantTable table;
  const int32_t block = DepthwiseTaps::block_for(d.f_h * d.f_w);
  for (int32_t c0 = first; c0 < depth; c0 += block) {
    const int32_t n = min32(block, wide - c0);  // <= 0: only the tail is left
    if (n > 0) {
      taps.widen(w, d.f_h * d.f_w, depth, c0, n, block);
      window_requant(table, rq, d.quick, c0, n, {bias, w, d.f_h * d.f_w, 1, depth, 4});
    }
    const bool last = c0 + block >= depth;
    for_each_output_pixel(d, p, x, y, [&](const int8_t* xb, const Window& win, int8_t* out) {
      const int32_t rows = max32(win.ky1 - win.ky0, 0), cols = max32(win.kx1 - win.kx0, 0);
      if (n > 0) {
        // With no valid tap (rows or cols 0) the loops leave the bias alone.
        const int8_t* xt = rows > 0 && cols > 0
                               ? xb + (win.y0 + win.ky0) * in_row + (win.x0 + win.kx0) * depth + c0
                               : xb;
        depthwise_pixel(taps, xt, win.ky0 * d.f_w + win.kx0, rows, cols, d.f_w, depth, in_row, off2,
                        bias, table, c0, n, out);
      }
      if (!last) return;
      for (int32_t c = wide; c < depth; ++c) {  // the last depth % 4 channels
        uint32_t sum = bias != nullptr ? static_cast<uint32_t>(bias[c]) : 0u;
        for (int32_t ky = win.ky0; ky < win.ky1; ++ky) {
          for (int32_t kx = win.kx0; kx < win.kx1; ++kx) {
            const int32_t xv = xb[(win.y0 + ky) * in_row + (win.x0 + kx) * depth + c] + d.input_offset;
            sum += static_cast<uint32_t>(xv * static_cast<int32_t>(w[ky * f_row + kx * depth + c]));
          }
        }
        out[c] = rq(c, static_cast<int32_t>(sum));
      }
    });
  }
}
#endif  // MF_DEPTHWISE_BLOCKS

}  // namespace

bool depthwise_conv_2d(const conv_common::OpData& d, const conv_common::Params& p,
                       const int8_t* x, const int8_t* w, const int32_t* bias, int8_t* y) {
  if (!depthwise_conv_2d_covers(d, p)) return false;
  const Requant rq = op_requant(d);
#if MF_FAST_DEPTH_MULTIPLIER
  if (p.depth_multiplier != 1 && single_channel_input(d, p)) {
    depthwise_single_channel(d, p, x, w, bias, rq, y);
    return true;
  }
  if (p.depth_multiplier != 1) {
    DepthwiseTaps taps;
    RequantTable table;
    depthwise_multiplier(d, p, x, w, bias, rq, taps, table, y);
    return true;
  }
#endif
  const int32_t first = rows_3x3(d) ? d.out_d & ~3 : 0;  // the channels the 3x3 rows take
  if (first > 0) depthwise_3x3_rows(d, p, x, w, bias, rq, y);
#if MF_DEPTHWISE_BLOCKS
  if (first < d.out_d) depthwise_blocks(d, p, x, w, bias, rq, y, first);
#endif
  return true;
}

namespace {

// One FULLY_CONNECTED input row widened like a patch, but compact: for elements
// k..k+3 the words (k, k+2), (k+1, k+3).
struct WideRow {
  static constexpr int32_t kMaxDepth = 1024;
  uint32_t words[kMaxDepth / 2];
  int32_t tail[3];

  void widen(const int8_t* src, int32_t k, int32_t offset) {
    widen_with_offset(src, k, offset, words, 2, tail);
  }
};

#if MF_FC_C_QUADS
// Four filter rows (w, w + k, w + 2k, w + 3k) against a widened row over
// `groups` groups (at least 1): 32 MACs in 45 instructions on DSP cores
// (outside the quad assembly below, which takes four groups a step).
inline void mac_1x4(const uint32_t* xp, int32_t groups, const int8_t* w, int32_t k,
                    int32_t (&acc)[4]) {
  int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if MF_DSP_ASM
  // Rows 0 and 2 advance; rows 1 and 3 are read k bytes past them.
  const int8_t* w0 = w;
  const int8_t* w2 = w + 2 * k;
  const uint32_t* const end = xp + 2 * groups;
  uint32_t xl, xh, wv, wl;
#define MF_MAC_ROW(LOAD, A)                       \
  LOAD                                             \
  "sxtb16 %[wl], %[wv]\n\t"                        \
  "sxtb16 %[wv], %[wv], ror #8\n\t"                \
  "smlad %[" A "], %[xl], %[wl], %[" A "]\n\t"      \
  "smlad %[" A "], %[xh], %[wv], %[" A "]\n\t"
#define MF_MAC_GROUP                                \
  "ldrd %[xl], %[xh], [%[xp]], #8\n\t"               \
  MF_MAC_ROW("ldr %[wv], [%[w0], %[k]]\n\t", "a1")  \
  MF_MAC_ROW("ldr %[wv], [%[w0]], #4\n\t", "a0")    \
  MF_MAC_ROW("ldr %[wv], [%[w2], %[k]]\n\t", "a3")  \
  MF_MAC_ROW("ldr %[wv], [%[w2]], #4\n\t", "a2")
  // An odd group first, then two groups per loop step.
  __asm__ volatile(
      "ldr %[wl], %[groups]\n\t"
      "tst %[wl], #1\n\t"
      "beq 2f\n\t"
      MF_MAC_GROUP
      "ldr %[wl], %[end]\n\t"
      "cmp %[xp], %[wl]\n\t"
      "beq 3f\n\t"
      "2:\n\t"
      MF_MAC_GROUP
      MF_MAC_GROUP
      "ldr %[wl], %[end]\n\t"
      "cmp %[xp], %[wl]\n\t"
      "bne 2b\n\t"
      "3:\n\t"
      : [a0] "+&r"(a0), [a1] "+&r"(a1), [a2] "+&r"(a2), [a3] "+&r"(a3), [xp] "+&r"(xp), [w0] "+&r"(w0),
        [w2] "+&r"(w2), [xl] "=&r"(xl), [xh] "=&r"(xh), [wv] "=&r"(wv), [wl] "=&r"(wl)
      : [k] "r"(k), [end] "m"(end), [groups] "m"(groups)
      : "cc", "memory");
#undef MF_MAC_GROUP
#undef MF_MAC_ROW
#else
  const int8_t* w0 = w;
  for (int32_t g = groups; g > 0; --g, xp += 2, w0 += 4) {
    uint32_t v = load4(w0);
    a0 = smlad(xp[1], sxtb16_ror8(v), smlad(xp[0], sxtb16(v), a0));
    v = load4(w0 + k);
    a1 = smlad(xp[1], sxtb16_ror8(v), smlad(xp[0], sxtb16(v), a1));
    v = load4(w0 + 2 * k);
    a2 = smlad(xp[1], sxtb16_ror8(v), smlad(xp[0], sxtb16(v), a2));
    v = load4(w0 + 3 * k);
    a3 = smlad(xp[1], sxtb16_ror8(v), smlad(xp[0], sxtb16(v), a3));
  }
#endif
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}
#endif  // MF_FC_C_QUADS

// The requantization of FULLY_CONNECTED's outputs: the short form of every
// channel (QuickRequant, one for per-tensor weights) where the accumulators of
// n products allow it, else the general one.
struct FcRequant {
  static constexpr int32_t kQuickChannels = 32;
  const Requant& rq;
  bool quick = false;
  QuickRequant q[kQuickChannels];

  FcRequant(const Requant& r, int32_t out_depth, int32_t n, const int32_t* bias) : rq(r) {
    const int32_t channels = rq.channel_mask != 0 ? out_depth : 1;
    if (channels > kQuickChannels) return;
    const int64_t products = static_cast<int64_t>(n) * 255 * 128;
    // An upper bound of every |bias|: the OR of (|b| - 1 or |b|, as b ^ (b >> 31)
    // gives), plus one, is at least the largest and less than twice it.
    uint32_t bits = 0;
    if (bias != nullptr) {
      auto or_bits = [](int32_t b) { return static_cast<uint32_t>(b ^ (b >> 31)); };
      int32_t c = 0;
      for (; c + 4 <= out_depth; c += 4) {
        bits |= or_bits(bias[c]) | or_bits(bias[c + 1]) | or_bits(bias[c + 2]) | or_bits(bias[c + 3]);
      }
      for (; c < out_depth; ++c) bits |= or_bits(bias[c]);
    }
    const uint32_t max_bias = bits;
    for (int32_t c = 0; c < channels; ++c) {
      if (!make_quick(rq.mult[c], rq.shift[c], rq.out_offset, products + static_cast<int64_t>(max_bias) + 1,
                      &q[c])) {
        return;
      }
    }
    quick = true;
  }

  MF_ALWAYS_INLINE int8_t operator()(int32_t c, int32_t acc) const {
    if (!quick) return rq(c, acc);
    const int32_t v = apply_quick(q[c & rq.channel_mask], acc);
    return static_cast<int8_t>(v < rq.lo ? rq.lo : (v > rq.hi ? rq.hi : v));
  }
};

#if MF_DSP_ASM
// Every quad of output rows of one widened input row, with the short
// requantization, for the assembly routine below (fields at fixed offsets).
struct QuadJob {
  const uint32_t* words;      // the widened input row
  const uint32_t* words_end;  // words + 2 * groups (the last group zero-padded)
  const int8_t* w;            // filter row of the next quad's first output
  int32_t k;                  // filter row length
  const int32_t* bias;        // the next quad's biases
  const QuickRequant* q;      // the next quad's first output's short form
  int8_t* y;                  // the next quad's outputs
  int8_t* y_end;              // y after the last quad
  uint32_t lo4, hi4;          // the clamp bounds in each byte
  int32_t lead;               // groups % 4: run one at a time first
};
static_assert(sizeof(QuadJob) == 44 && offsetof(QuadJob, lo4) == 32 && sizeof(QuickRequant) == 12,
              "QuadJob layout");

// One group of four inputs for the quad's four rows: 16 MACs in 21
// instructions. r0..r3 accumulators, r4 input words, r5 / r6 rows 0 / 2 (rows
// 1 / 3 are k bytes further), r7 k, r8 r9 the group's input words, r10 r11 a
// filter word widened.
#define MF_QUAD_ROW(LOAD, A)             \
  LOAD                                   \
  "sxtb16 r11, r10\n\t"                  \
  "sxtb16 r10, r10, ror #8\n\t"          \
  "smlad " A ", r8, r11, " A "\n\t"      \
  "smlad " A ", r9, r10, " A "\n\t"
#define MF_QUAD_GROUP                                 \
  "ldrd r8, r9, [r4], #8\n\t"                         \
  MF_QUAD_ROW("ldr r10, [r5, r7]\n\t", "r1")          \
  MF_QUAD_ROW("ldr r10, [r5], #4\n\t", "r0")          \
  MF_QUAD_ROW("ldr r10, [r6, r7]\n\t", "r3")          \
  MF_QUAD_ROW("ldr r10, [r6], #4\n\t", "r2")

// Accumulator A with the short form in r4, r5, r6.
#define MF_QUAD_QUICK(A) MF_QUICK_UNDOUBLED_T(A, "r4", "r5", "r6", "lr")

// The four outputs' short forms: one per output from ip (12 bytes apart), or
// one for all.
#define MF_QUAD_PER_CHANNEL                                   \
  "ldr ip, [sp, #20]\n\t"                                     \
  "ldm ip!, {r4, r5, r6}\n\t" MF_QUAD_QUICK("r0")              \
  "ldm ip!, {r4, r5, r6}\n\t" MF_QUAD_QUICK("r1")              \
  "ldm ip!, {r4, r5, r6}\n\t" MF_QUAD_QUICK("r2")              \
  "ldm ip!, {r4, r5, r6}\n\t" MF_QUAD_QUICK("r3")              \
  "str ip, [sp, #20]\n\t"
#define MF_QUAD_PER_TENSOR                                    \
  "ldr ip, [sp, #20]\n\t"                                     \
  "ldm ip, {r4, r5, r6}\n\t"                                  \
  MF_QUAD_QUICK("r0") MF_QUAD_QUICK("r1") MF_QUAD_QUICK("r2") MF_QUAD_QUICK("r3")

#define MF_QUAD_CLAMP "ldrd r4, r5, [sp, #32]\n\t" MF_CLAMP_BYTES("r0", "r4", "r5", "lr")

#define MF_QUAD_ROUTINE(QUICK, CLAMP)                                   \
  "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"                     \
  "ldm r0, {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11}\n\t"     \
  "push {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11}\n\t"        \
  "1:\n\t"                                                              \
  "ldr ip, [sp, #16]\n\t"                                               \
  "ldm ip!, {r0, r1, r2, r3}\n\t"                                       \
  "str ip, [sp, #16]\n\t"                                               \
  "ldr r5, [sp, #8]\n\t"                                                \
  "ldr r7, [sp, #12]\n\t"                                               \
  "add r6, r5, r7, lsl #1\n\t"                                          \
  "add ip, r5, r7, lsl #2\n\t"                                          \
  "str ip, [sp, #8]\n\t"                                                \
  "ldr r4, [sp, #0]\n\t"                                                \
  "ldr lr, [sp, #4]\n\t"                                                \
  "ldr ip, [sp, #40]\n\t"                                               \
  "cmp ip, #0\n\t"                                                      \
  "beq 3f\n\t"                                                          \
  "5:\n\t"                                                              \
  MF_QUAD_GROUP                                                         \
  "subs ip, ip, #1\n\t"                                                 \
  "bne 5b\n\t"                                                          \
  "cmp r4, lr\n\t"                                                      \
  "beq 4f\n\t"                                                          \
  "3:\n\t"                                                              \
  MF_QUAD_GROUP                                                         \
  MF_QUAD_GROUP                                                         \
  MF_QUAD_GROUP                                                         \
  MF_QUAD_GROUP                                                         \
  "cmp r4, lr\n\t"                                                      \
  "bne 3b\n\t"                                                          \
  "4:\n\t"                                                              \
  QUICK                                                                 \
  "bfi r0, r1, #8, #8\n\t"                                              \
  "bfi r0, r2, #16, #8\n\t"                                             \
  "bfi r0, r3, #24, #8\n\t"                                             \
  CLAMP                                                                 \
  "ldrd ip, lr, [sp, #24]\n\t"                                          \
  "str r0, [ip], #4\n\t"                                                \
  "str ip, [sp, #24]\n\t"                                               \
  "cmp ip, lr\n\t"                                                      \
  "bne 1b\n\t"                                                          \
  "add sp, sp, #44\n\t"                                                 \
  "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t"

// The routines a model's operators call (microforge.variants sets MF_MODEL_FC_QUADS): per-tensor
// full range 1, per-tensor clamped 2, per-channel full range 4, per-channel clamped 8. One left
// out leaves its quads to the C loop (same results).
#ifndef MF_MODEL_FC_QUADS
#define MF_MODEL_FC_QUADS 15
#endif

using QuadRoutine = void (*)(const QuadJob*);

#if MF_MODEL_FC_QUADS & 1
__attribute__((naked, noinline)) void quad_rows_per_tensor(const QuadJob*) {
  __asm__ volatile(MF_QUAD_ROUTINE(MF_QUAD_PER_TENSOR, ""));
}
#endif

#if MF_MODEL_FC_QUADS & 2
__attribute__((naked, noinline)) void quad_rows_per_tensor_clamped(const QuadJob*) {
  __asm__ volatile(MF_QUAD_ROUTINE(MF_QUAD_PER_TENSOR, MF_QUAD_CLAMP));
}
#endif

#if MF_MODEL_FC_QUADS & 4
__attribute__((naked, noinline)) void quad_rows_per_channel(const QuadJob*) {
  __asm__ volatile(MF_QUAD_ROUTINE(MF_QUAD_PER_CHANNEL, ""));
}
#endif

#if MF_MODEL_FC_QUADS & 8
__attribute__((naked, noinline)) void quad_rows_per_channel_clamped(const QuadJob*) {
  __asm__ volatile(MF_QUAD_ROUTINE(MF_QUAD_PER_CHANNEL, MF_QUAD_CLAMP));
}
#endif

// The routine for per-channel or per-tensor weights and a full-range or clamped output, if built.
QuadRoutine quad_routine(bool per_channel, bool full) {
  switch ((per_channel ? 4 : 1) << (full ? 0 : 1)) {
#if MF_MODEL_FC_QUADS & 1
    case 1:
      return quad_rows_per_tensor;
#endif
#if MF_MODEL_FC_QUADS & 2
    case 2:
      return quad_rows_per_tensor_clamped;
#endif
#if MF_MODEL_FC_QUADS & 4
    case 4:
      return quad_rows_per_channel;
#endif
#if MF_MODEL_FC_QUADS & 8
    case 8:
      return quad_rows_per_channel_clamped;
#endif
    default:
      return nullptr;
  }
}

#undef MF_QUAD_ROUTINE
#undef MF_QUAD_CLAMP
#undef MF_QUAD_PER_TENSOR
#undef MF_QUAD_PER_CHANNEL
#undef MF_QUAD_QUICK
#undef MF_QUICK_T
#undef MF_QUICK_UNDOUBLED_T
#undef MF_CLAMP_BYTES
#undef MF_QUAD_GROUP
#undef MF_QUAD_ROW
#endif  // MF_DSP_ASM

// All output rows of one widened input row.
void fully_connected_row(const WideRow& row, const FcRequant& rq, int32_t out_depth, int32_t n,
                         const int8_t* w, const int32_t* bias, int8_t* out) {
  const int32_t groups = n >> 2, rest = n & 3;
  int32_t c = 0;
#if MF_DSP_ASM
  if (rq.quick && bias != nullptr) {
    // Whole quads; with n % 4 != 0 the rows are read to the next multiple of 4 (times the
    // zero padding), so a quad ending at the filter's last row is left to the loop below.
    int32_t quads = out_depth / 4;
    if (rest != 0 && 4 * quads == out_depth) --quads;
    const QuadRoutine routine = quad_routine(rq.rq.channel_mask != 0, rq.rq.lo == -128 && rq.rq.hi == 127);
    if (quads > 0 && routine != nullptr) {
      const int32_t all = groups + (rest != 0);
      const QuadJob job = {row.words, row.words + 2 * all, w, n, bias, rq.q, out,
                           out + 4 * quads, RequantTable::bytes4(rq.rq.lo), RequantTable::bytes4(rq.rq.hi),
                           all & 3};
      routine(&job);
      c = 4 * quads;
    }
  }
#endif
#if !MF_FC_C_QUADS
  for (; c < out_depth; ++c) {
    out[c] = rq(c, dot_row(row.words, 2, groups, row.tail, rest, w + c * n, bias != nullptr ? bias[c] : 0));
  }
#else
  for (; c + 4 <= out_depth; c += 4) {
    int32_t acc[4] = {0, 0, 0, 0};
    if (bias != nullptr) {
      for (int i = 0; i < 4; ++i) acc[i] = bias[c + i];
    }
    if (groups > 0) mac_1x4(row.words, groups, w + c * n, n, acc);
    for (int i = 0; i < 4; ++i) {
      const int8_t* tail = w + (c + i) * n + 4 * groups;
      for (int32_t t = 0; t < rest; ++t) acc[i] = mac(acc[i], row.tail[t], tail[t]);
      out[c + i] = rq(c + i, acc[i]);
    }
  }
  for (; c < out_depth; ++c) {  // the last out_depth % 4 rows: stride 0, one row four times
    int32_t acc[4] = {bias != nullptr ? bias[c] : 0, 0, 0, 0};
    if (groups > 0) mac_1x4(row.words, groups, w + c * n, 0, acc);
    const int8_t* tail = w + c * n + 4 * groups;
    for (int32_t t = 0; t < rest; ++t) acc[0] = mac(acc[0], row.tail[t], tail[t]);
    out[c] = rq(c, acc[0]);
  }
#endif
}

}  // namespace

// MF_MODEL_FC_DEEP=0 (microforge.variants: no int8 FULLY_CONNECTED row deeper than WideRow holds)
// leaves out the loop for such rows; the fast path then refuses them.
#ifndef MF_MODEL_FC_DEEP
#define MF_MODEL_FC_DEEP 1
#endif

bool fully_connected_covers(const fully_connected::OpData& d) {
  return MF_MODEL_FC_DEEP || d.accum_depth <= WideRow::kMaxDepth;
}

#if MF_MODEL_FC_DEEP

// Filter rows [c, c + R) of a row deeper than WideRow holds (micro_speech's 4,000): each input
// word is widened once, with the offset, for all R rows; the results go to y[c..c + R).
template <int R>
void deep_rows(const Requant& rq, int32_t c, int32_t n, const int8_t* x, uint32_t offset2, const int8_t* w,
               const int32_t* bias, int8_t* y) {
  int32_t acc[R];
  for (int i = 0; i < R; ++i) acc[i] = bias != nullptr ? bias[c + i] : 0;
  const int8_t* rows = w + c * n;
  int32_t k = 0;
  for (; k + 4 <= n; k += 4) {
    const uint32_t v = load4(x + k);
    const uint32_t even = sxtab16(offset2, v), odd = sxtab16_ror8(offset2, v);
    for (int i = 0; i < R; ++i) {
      const uint32_t f = load4(rows + i * n + k);
      acc[i] = smlad(odd, sxtb16_ror8(f), smlad(even, sxtb16(f), acc[i]));
    }
  }
  const int32_t offset = static_cast<int16_t>(offset2 & 0xFFFFu);  // the packed offset, once
  for (; k < n; ++k) {
    for (int i = 0; i < R; ++i) acc[i] = mac(acc[i], x[k] + offset, rows[i * n + k]);
  }
  for (int i = 0; i < R; ++i) y[c + i] = rq(c + i, acc[i]);
}

MF_NOINLINE void fully_connected_deep(const Requant& rq, int32_t out_depth, int32_t n, const int8_t* x,
                                      int32_t input_offset, const int8_t* w, const int32_t* bias, int8_t* y) {
  const uint32_t offset2 = simd::pack16(input_offset, input_offset);  // both halves
  int32_t c = 0;
  for (; c + 4 <= out_depth; c += 4) deep_rows<4>(rq, c, n, x, offset2, w, bias, y);
  for (; c < out_depth; ++c) deep_rows<1>(rq, c, n, x, offset2, w, bias, y);
}
#endif  // MF_MODEL_FC_DEEP

bool fully_connected(const fully_connected::OpData& d, const int8_t* x, const int8_t* w,
                     const int32_t* bias, int8_t* y) {
  const int32_t n = d.accum_depth;
  if (!fully_connected_covers(d)) return false;
  const Requant rq = op_requant(d);
#if MF_MODEL_FC_DEEP
  if (n > WideRow::kMaxDepth) {
    for (int32_t b = 0; b < d.batches; ++b) {
      fully_connected_deep(rq, d.out_depth, n, x + b * n, d.input_offset, w, bias, y + b * d.out_depth);
    }
    return true;
  }
#endif
  const FcRequant requant(rq, d.out_depth, n, bias);
  WideRow row;
  for (int32_t b = 0; b < d.batches; ++b) {
    row.widen(x + b * n, n, d.input_offset);
    fully_connected_row(row, requant, d.out_depth, n, w, bias, y + b * d.out_depth);
  }
  return true;
}

}  // namespace fast
}  // namespace kernels
}  // namespace mf

#endif  // MF_FAST_KERNELS
