// Build switches of the kernels: MF_FAST_KERNELS, every MF_MODEL_* flag with its default, and
// what the kernels derive from them. This is the one place they are defined.
//
// MF_FAST_KERNELS selects the fast int8 paths (kernels/fast/): 1 by default on a CPU with the
// DSP extension (simd.h: MF_HAVE_DSP), 0 elsewhere; a build may set it either way
// (-DMF_FAST_KERNELS=0 keeps the reference kernels only, =1 on the host runs the portable forms).
//
// MF_MODEL_*: per-model builds. The generator (microforge.lower.build_flags) adds -D MF_MODEL_<NAME>=<v>
// to platformio.ini when the model never needs what a flag leaves out; without the flags every
// path is built (the defaults below). A flag that leaves out a reference loop makes prepare()
// refuse a node the fast path does not cover (kUnsupportedType) instead of computing nothing; a
// fast routine left out leaves its outputs to the fast path's C loops (same results, slower).
// Without MF_FAST_KERNELS only MF_MODEL_NO_FLOAT changes anything.
#pragma once

#include "microforge/kernels/simd.h"  // MF_HAVE_DSP

#ifndef MF_FAST_KERNELS
#define MF_FAST_KERNELS MF_HAVE_DSP
#endif

// -- the flags, their defaults and meaning -------------------------------------------------------

// 1: every int8 CONV_2D is a layout the fast path covers; the reference int8 loop is left out.
#ifndef MF_MODEL_CONV_FAST_ONLY
#define MF_MODEL_CONV_FAST_ONLY 0
#endif
// 1: every int8 DEPTHWISE_CONV_2D is covered by the fast path; the reference int8 loop is left out.
#ifndef MF_MODEL_DEPTHWISE_FAST_ONLY
#define MF_MODEL_DEPTHWISE_FAST_ONLY 0
#endif
// 1: every int8 FULLY_CONNECTED is covered by the fast path; the reference int8 loop is left out.
#ifndef MF_MODEL_FC_FAST_ONLY
#define MF_MODEL_FC_FAST_ONLY 0
#endif
// 1: every int8 AVERAGE_POOL_2D window has at most 256 elements (the fast path's 16-bit sums).
#ifndef MF_MODEL_POOL_FAST_ONLY
#define MF_MODEL_POOL_FAST_ONLY 0
#endif
// 1: no DEPTHWISE_CONV_2D has a depth multiplier above 1; the fast multiplier paths are left out.
#ifndef MF_MODEL_NO_DEPTH_MULTIPLIER
#define MF_MODEL_NO_DEPTH_MULTIPLIER 0
#endif
// 1: no CONV, DEPTHWISE, FC, pool or SOFTMAX node is float32; their float loops are left out.
#ifndef MF_MODEL_NO_FLOAT
#define MF_MODEL_NO_FLOAT 0
#endif
// Mask of CONV_2D tile routines built: widened filter full range 1, clamped 2; int8 filter 4, 8.
// -D MF_RECORD_ROUTINES=1 (test builds only): the routine selectors record every routine asked
// for, as the bits of MF_MODEL_CONV_TILES / _DEPTHWISE_ROWS / _FC_QUADS (fast/fast_int8.h
// recorded_routines(), reported by the firmware's mf-info), so tests hold the generator's build
// flags against the dispatch the model really takes.
#ifndef MF_RECORD_ROUTINES
#define MF_RECORD_ROUTINES 0
#endif
#ifndef MF_MODEL_CONV_TILES
#define MF_MODEL_CONV_TILES 15
#endif
// 1: the tile routines take every channel pair, so the C 2x2 tiles are left out (dot_row remains).
#ifndef MF_MODEL_CONV_TILES_ONLY
#define MF_MODEL_CONV_TILES_ONLY 0
#endif
// Mask of 3x3 DEPTHWISE_CONV_2D line routines built (depthwise_rows.inc): stride 1 along the
// line full range 1, clamped 2; stride 2 full range 4, clamped 8.
#ifndef MF_MODEL_DEPTHWISE_ROWS
#define MF_MODEL_DEPTHWISE_ROWS 15
#endif
// 1: depth multiplier 1 only as 3x3 rows on whole groups of 4 channels; depthwise_blocks left out.
#ifndef MF_MODEL_DEPTHWISE_3X3_ONLY
#define MF_MODEL_DEPTHWISE_3X3_ONLY 0
#endif
// Mask of FULLY_CONNECTED quad routines built: per-tensor full range 1, clamped 2; per-channel 4, 8;
// the same over the plan's widened filter 16, 32, 64, 128.
#ifndef MF_MODEL_FC_QUADS
#define MF_MODEL_FC_QUADS 255
#endif
// 1: the quad routines take every row quad, so the C 1x4 quads are left out (dot_row remains).
#ifndef MF_MODEL_FC_QUADS_ONLY
#define MF_MODEL_FC_QUADS_ONLY 0
#endif
// 1: some int8 CONV_2D's patches are rows of a multiple of 16 bytes (not the input's pixels one
// after another): they are widened four groups an LDM (widen_rows_dsp), word fills for the
// border patches. 0 (the default) leaves that out; such patches then take the general loops.
#ifndef MF_MODEL_CONV_WIDEN_ROWS
#define MF_MODEL_CONV_WIDEN_ROWS 0
#endif
// 0: no int8 FULLY_CONNECTED row is deeper than WideRow holds; the deep-row loop is left out.
#ifndef MF_MODEL_FC_DEEP
#define MF_MODEL_FC_DEEP 1
#endif
// 1: every fast CONV_2D / multiplier-1 DEPTHWISE node has the plan's quick blocks; no own derivation.
#ifndef MF_MODEL_QUICK_FROM_PLAN
#define MF_MODEL_QUICK_FROM_PLAN 0
#endif

// -- what the kernels test -----------------------------------------------------------------------

// The reference kernels' int8 loops (conv_2d.cpp, depthwise_conv_2d.cpp, fully_connected.cpp,
// average_pool_2d.cpp): 0 where the fast path takes every node (prepare checks the covers).
#if MF_FAST_KERNELS && MF_MODEL_CONV_FAST_ONLY
#define MF_CONV_REFERENCE 0
#else
#define MF_CONV_REFERENCE 1
#endif
#if MF_FAST_KERNELS && MF_MODEL_DEPTHWISE_FAST_ONLY
#define MF_DEPTHWISE_REFERENCE 0
#else
#define MF_DEPTHWISE_REFERENCE 1
#endif
#if MF_FAST_KERNELS && MF_MODEL_FC_FAST_ONLY
#define MF_FC_REFERENCE 0
#else
#define MF_FC_REFERENCE 1
#endif
#if MF_FAST_KERNELS && MF_MODEL_POOL_FAST_ONLY
#define MF_POOL_REFERENCE 0
#else
#define MF_POOL_REFERENCE 1
#endif

// The float32 loops of CONV, DEPTHWISE, FC, the pools and SOFTMAX: without them their eval
// refuses a float node (kUnsupportedType).
#if MF_MODEL_NO_FLOAT
#define MF_FLOAT_KERNELS 0
#else
#define MF_FLOAT_KERNELS 1
#endif

// The fast DEPTHWISE_CONV_2D paths for depth multipliers above 1 (depthwise_multiplier.inc).
#if MF_MODEL_NO_DEPTH_MULTIPLIER
#define MF_FAST_DEPTH_MULTIPLIER 0
#else
#define MF_FAST_DEPTH_MULTIPLIER 1
#endif

// The fast path's C loops over what the assembly routines leave: CONV_2D's 2x2 tiles
// (conv_tiles.inc) and FULLY_CONNECTED's 1x4 quads (fc_quads.inc). Without them an output left
// over runs alone (dot_row, common.h).
#if MF_MODEL_CONV_TILES_ONLY
#define MF_CONV_C_TILES 0
#else
#define MF_CONV_C_TILES 1
#endif
#if MF_MODEL_FC_QUADS_ONLY
#define MF_FC_C_QUADS 0
#else
#define MF_FC_C_QUADS 1
#endif

// The general depth multiplier 1 path (depthwise_blocks.inc): without it the fast path covers
// depth multiplier 1 only with 3x3 filters and whole groups of 4 channels (the rows).
#if MF_MODEL_DEPTHWISE_3X3_ONLY
#define MF_DEPTHWISE_BLOCKS 0
#else
#define MF_DEPTHWISE_BLOCKS 1
#endif

// The kernels' own derivation of the short requantization (RequantTable::fill) for CONV_2D and
// depth multiplier 1 DEPTHWISE_CONV_2D nodes: without it the covers refuse a node without the
// generator's (OpData::quick).
#if MF_MODEL_QUICK_FROM_PLAN
#define MF_QUICK_FILL 0
#else
#define MF_QUICK_FILL 1
#endif
