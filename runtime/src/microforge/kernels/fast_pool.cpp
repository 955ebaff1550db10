// The fast int8 AVERAGE_POOL_2D: window sums of four channels at a time in the
// 16-bit halves of two words (SXTAB16), then TFLM's rounded division.
#include "microforge/kernels/fast_int8.h"

#if MF_FAST_KERNELS

namespace mf {
namespace kernels {
namespace fast {

namespace {

inline int32_t half_lo(uint32_t v) { return static_cast<int16_t>(v & 0xFFFFu); }
inline int32_t half_hi(uint32_t v) { return static_cast<int16_t>(v >> 16); }

}  // namespace

bool average_pool(const pool_common::OpData& d, const pool_common::Params& p, const int8_t* x, int8_t* y) {
  // A 16-bit half holds the sum of up to 256 int8 values (|sum| <= 32768).
  if (p.filter_h * p.filter_w > 256) return false;
  const int32_t row = d.in_w * d.depth, words = d.depth & ~3;
  for (int32_t b = 0; b < d.batches; ++b) {
    const int8_t* xb = x + b * d.in_h * row;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      for (int32_t ox = 0; ox < d.out_w; ++ox, y += d.depth) {
        const pool_common::Window w = pool_common::window(d, p, oy, ox);
        const int32_t rows = w.fy1 - w.fy0, cols = w.fx1 - w.fx0, count = rows * cols;
        const int8_t* x0 = xb + (w.y0 + w.fy0) * row + (w.x0 + w.fx0) * d.depth;
        for (int32_t c = 0; c < words; c += 4) {
          uint32_t even = 0, odd = 0;  // channels (c, c+2) and (c+1, c+3)
          const int8_t* xr = x0 + c;
          for (int32_t r = 0; r < rows; ++r, xr += row) {
            const int8_t* xp = xr;
            for (int32_t k = 0; k < cols; ++k, xp += d.depth) {
              const uint32_t v = simd::load4(xp);
              even = simd::sxtab16(even, v);
              odd = simd::sxtab16_ror8(odd, v);
            }
          }
          y[c] = pool_common::average_int8(half_lo(even), count, d);
          y[c + 1] = pool_common::average_int8(half_lo(odd), count, d);
          y[c + 2] = pool_common::average_int8(half_hi(even), count, d);
          y[c + 3] = pool_common::average_int8(half_hi(odd), count, d);
        }
        for (int32_t c = words; c < d.depth; ++c) {
          int32_t sum = 0;
          for (int32_t r = 0; r < rows; ++r) {
            for (int32_t k = 0; k < cols; ++k) sum += x0[r * row + k * d.depth + c];
          }
          y[c] = pool_common::average_int8(sum, count, d);
        }
      }
    }
  }
  return true;
}

}  // namespace fast
}  // namespace kernels
}  // namespace mf

#endif  // MF_FAST_KERNELS
