// The fast int8 kernels' one translation unit: the entry points of fast_int8.h, each choosing
// the routine family that takes a node's layout (AVERAGE_POOL_2D's one routine is its own entry
// point). The families, one file each, included below:
//
//   pool.inc                  AVERAGE_POOL_2D window sums in 16-bit halves
//   conv_tiles.inc            CONV_2D: 2x2 tiles (pixel pair x channel pair) over widened patches
//   depthwise_rows.inc        3x3 DEPTHWISE_CONV_2D, depth multiplier 1: a row at a time over a band
//   depthwise_blocks.inc      DEPTHWISE_CONV_2D taps widened per block of channels; the general path
//   depthwise_multiplier.inc  DEPTHWISE_CONV_2D with a depth multiplier above 1
//   fc_quads.inc              FULLY_CONNECTED: four filter rows at a time over one widened input row
//   fc_deep.inc               FULLY_CONNECTED rows longer than the widened row holds
//
// fast/config.h holds every switch (MF_FAST_KERNELS, the MF_MODEL_* flags of per-model builds),
// fast/common.h what the families share (widening, requantization, the assembly macros).
//
// The families are included rather than compiled one by one so that the compiler sees what it
// saw when they were one file: it inlines a family's top routine into its entry point here
// (conv_2d_widened, fully_connected_row), specializes helpers for their callers and shares one
// dot_row; separate files would add calls and change the instruction counts.
#include "microforge/kernels/fast/fast_int8.h"
#include "microforge/kernels/limits.h"

#if MF_RECORD_ROUTINES
namespace mf {
namespace kernels {
namespace fast {
namespace {
RoutineMasks g_recorded = {0, 0, 0};
}  // namespace
RoutineMasks& recorded_mutable() { return g_recorded; }
const RoutineMasks& recorded_routines() { return g_recorded; }
}  // namespace fast
}  // namespace kernels
}  // namespace mf
#endif

#if MF_FAST_KERNELS

// -- AVERAGE_POOL_2D: pool.inc, whose one routine is the entry point (average_pool). First: it
// is built like the rest of the runtime (-Os); common.h switches what follows it to -O2.
#include "microforge/kernels/fast/pool.inc"

#include "microforge/kernels/fast/common.h"
#include "microforge/kernels/fast/conv_tiles.inc"
#include "microforge/kernels/fast/depthwise_rows.inc"
#include "microforge/kernels/fast/depthwise_blocks.inc"
#include "microforge/kernels/fast/depthwise_multiplier.inc"
#include "microforge/kernels/fast/fc_quads.inc"
#include "microforge/kernels/fast/fc_deep.inc"

namespace mf {
namespace kernels {
namespace fast {

// -- CONV_2D: conv_tiles.inc -----------------------------------------------------------------------

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
  alignas(4) int8_t staging[PatchPair::kMaxPatch];  // word-aligned: PatchPair::widen's LDMs
  RequantTable table;
  conv_2d_widened(d, p, x, w, bias, rq, y, patches, staging, table);
  return true;
}

// -- DEPTHWISE_CONV_2D: depthwise_rows.inc, depthwise_blocks.inc, depthwise_multiplier.inc -------

bool depthwise_conv_2d_covers(const conv_common::OpData& d, const conv_common::Params& p) {
  const bool multiplier_ok =
      p.depth_multiplier == 1 || (MF_FAST_DEPTH_MULTIPLIER && p.depth_multiplier % 4 == 0);
  // Without the general path, depth multiplier 1 only where the 3x3 rows take every channel.
  const bool layout_ok = MF_DEPTHWISE_BLOCKS || p.depth_multiplier != 1 || (rows_3x3(d) && d.out_d % 4 == 0);
  const bool quick_ok = MF_QUICK_FILL || p.depth_multiplier != 1 || d.quick != nullptr;
  return p.dilation_w == 1 && p.dilation_h == 1 && DepthwiseTaps::block_for(d.f_h * d.f_w) != 0 &&
         multiplier_ok && layout_ok && quick_ok;
}

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

// -- FULLY_CONNECTED: fc_quads.inc, fc_deep.inc --------------------------------------------------

// Rows deeper than WideRow holds only with the deep-row loop (MF_MODEL_FC_DEEP).
bool fully_connected_covers(const fully_connected::OpData& d) {
  return MF_MODEL_FC_DEEP || d.accum_depth <= WideRow::kMaxDepth;
}

bool fully_connected(const fully_connected::OpData& d, const int8_t* x, const int8_t* w,
                     const int32_t* bias, int8_t* y, const uint32_t* wide) {
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
    fully_connected_row(row, requant, d.out_depth, n, w, wide, bias, y + b * d.out_depth);
  }
  return true;
}

}  // namespace fast
}  // namespace kernels
}  // namespace mf

#endif  // MF_FAST_KERNELS
