// Compares mf::fmath::exp_f32 with the host libm's expf bit for bit over the inputs
// [lo, hi) (default: all 2^32 bit patterns, NaNs included).
// Prints "DIFF <input> <ours> <libm>" per difference (at most 100) and "differences <n>".
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "microforge/kernels/float_math.h"

int main(int argc, char** argv) {
  const uint64_t lo = argc > 2 ? strtoull(argv[1], nullptr, 0) : 0;
  const uint64_t hi = argc > 2 ? strtoull(argv[2], nullptr, 0) : 0x100000000ull;
  uint64_t diff = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const uint32_t u = static_cast<uint32_t>(i);
    float x;
    memcpy(&x, &u, sizeof x);
    const float a = mf::fmath::exp_f32(x);
    const float b = expf(x);
    uint32_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    if (ua != ub) {
      if (diff < 100) printf("DIFF %08x %08x %08x\n", u, ua, ub);
      ++diff;
    }
  }
  printf("differences %llu\n", static_cast<unsigned long long>(diff));
  return 0;
}
