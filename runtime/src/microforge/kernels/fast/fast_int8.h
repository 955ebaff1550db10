// Fast int8 paths of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED and AVERAGE_POOL_2D for CPUs
// with packed 16-bit multiply-accumulate (simd.h), bit-exact with the reference
// kernels: the same products, summed modulo 2^32 in another order, then the
// same requantization. Each returns false for a layout it does not cover (the
// caller then runs the reference kernel). Compiled only when MF_FAST_KERNELS.
//
// The entry points the reference kernels call, all defined in fast/dispatch.cpp, which picks the
// routine family (one .inc file each in this folder) for a node's layout; fast/config.h holds
// every build switch (MF_FAST_KERNELS, MF_MODEL_*), fast/common.h what the families share.
#pragma once

#include <stdint.h>

#include "microforge/kernels/conv_common.h"
#include "microforge/kernels/fast/config.h"
#include "microforge/kernels/fully_connected.h"
#include "microforge/kernels/pool_common.h"

namespace mf {
namespace kernels {
namespace fast {

#if MF_RECORD_ROUTINES
// The routines the selectors were asked for since boot, as the MF_MODEL_* masks' bits.
struct RoutineMasks {
  uint32_t conv_tiles;
  uint32_t depthwise_rows;
  uint32_t fc_quads;
};
const RoutineMasks& recorded_routines();
#define MF_RECORD_ROUTINE(field, bit) (recorded_mutable().field |= (bit))
RoutineMasks& recorded_mutable();
#else
#define MF_RECORD_ROUTINE(field, bit) ((void)0)
#endif

// The layouts each path covers (prepare checks them when the reference loop is
// not compiled: fast/config.h, MF_<OP>_REFERENCE); per-model builds may narrow them
// (fast/config.h: MF_MODEL_DEPTHWISE_3X3_ONLY, MF_MODEL_QUICK_FROM_PLAN, ...).
bool conv_2d_covers(const conv_common::OpData& d, const conv_common::Params& p);
bool depthwise_conv_2d_covers(const conv_common::OpData& d, const conv_common::Params& p);
bool fully_connected_covers(const fully_connected::OpData& d);

bool conv_2d(const conv_common::OpData& d, const conv_common::Params& p, const int8_t* x,
             const int8_t* w, const int32_t* bias, int8_t* y);

bool depthwise_conv_2d(const conv_common::OpData& d, const conv_common::Params& p,
                       const int8_t* x, const int8_t* w, const int32_t* bias, int8_t* y);

// wide: the plan's widened filter (ChannelQuant::wide), or nullptr.
bool fully_connected(const fully_connected::OpData& d, const int8_t* x, const int8_t* w,
                     const int32_t* bias, int8_t* y, const uint32_t* wide);

// int8 AVERAGE_POOL_2D with windows of up to 256 elements.
bool average_pool(const pool_common::OpData& d, const pool_common::Params& p, const int8_t* x, int8_t* y);

}  // namespace fast
}  // namespace kernels
}  // namespace mf
