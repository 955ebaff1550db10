// Reads lines "m s offset bias taps zero_weights" and prints the runtime's short requantization
// of that channel (kernels/requant.h, as RequantTable::fill derives it): "<m> <base> <r>" as
// int32 words, or "none".
#include <stdint.h>
#include <stdio.h>

#include "microforge/kernels/requant.h"

int main() {
  long m = 0, s = 0, off = 0, bias = 0, taps = 0, zero = 0;
  while (scanf("%ld %ld %ld %ld %ld %ld", &m, &s, &off, &bias, &taps, &zero) == 6) {
    const int64_t bound = static_cast<int64_t>(taps) * 255 * 128 + (bias < 0 ? -bias : bias);
    mf::kernels::QuickRequant q;
    const bool ok =
        mf::kernels::make_quick(static_cast<int32_t>(m), static_cast<int32_t>(s), static_cast<int32_t>(off),
                                bound, &q) ||
        (zero != 0 && mf::kernels::constant_quick(static_cast<int32_t>(m), static_cast<int32_t>(s),
                                                  static_cast<int32_t>(off), static_cast<int32_t>(bias), &q));
    if (ok) {
      printf("%ld %ld %ld\n", static_cast<long>(q.m), static_cast<long>(q.base),
             static_cast<long>(q.r));
    } else {
      printf("none\n");
    }
  }
  return 0;
}
