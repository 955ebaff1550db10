// Shared by AVERAGE_POOL_2D and MAX_POOL_2D: Pool2DOptions parsing, op data and
// prepare (geometry, padding and activation range as TFLM computes them).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace pool_common {

struct Params {
  int8_t padding;  // tflite::Padding
  uint8_t activation;
  int32_t stride_w, stride_h;
  int32_t filter_w, filter_h;
};

struct OpData {
  int32_t batches, in_h, in_w, depth;
  int32_t out_h, out_w;
  int32_t pad_h, pad_w;
  int32_t act_min, act_max;  // int8
  float f_min, f_max;        // float32
  bool is_float;
};

constexpr size_t state_bytes(int32_t /*channels*/) {
  return align_state(sizeof(Params)) + align_state(sizeof(OpData));
}

Status parse(const FbTable& options, void* params);
size_t data_bytes(int32_t channels);
Status prepare(Node& node);

// Window of output (oy, ox): first input row / column and the clipped filter
// ranges [fy0, fy1) x [fx0, fx1), as TFLM's reference pools compute them.
struct Window {
  int32_t y0, x0, fy0, fy1, fx0, fx1;
};

inline Window window(const OpData& d, const Params& p, int32_t oy, int32_t ox) {
  Window w;
  w.y0 = oy * p.stride_h - d.pad_h;
  w.x0 = ox * p.stride_w - d.pad_w;
  w.fy0 = w.y0 < 0 ? -w.y0 : 0;
  w.fx0 = w.x0 < 0 ? -w.x0 : 0;
  w.fy1 = p.filter_h < d.in_h - w.y0 ? p.filter_h : d.in_h - w.y0;
  w.fx1 = p.filter_w < d.in_w - w.x0 ? p.filter_w : d.in_w - w.x0;
  return w;
}

// An int8 window's average as TFLM computes it: the sum over count elements
// rounded to nearest, ties away from zero (C++ division truncates), clamped to
// the fused activation's range.
inline int8_t average_int8(int32_t sum, int32_t count, const OpData& d) {
  const int32_t v = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  return static_cast<int8_t>(v < d.act_min ? d.act_min : (v > d.act_max ? d.act_max : v));
}

}  // namespace pool_common
}  // namespace kernels
}  // namespace mf
