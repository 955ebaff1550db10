// Reads lines "in_bits w_bits out_bits" (float32 bit patterns, hex) and prints the runtime's
// requantization of in * w / out in double: "<multiplier> <shift>", or "refused".
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "microforge/kernels/quant_math.h"

static float from_bits(uint32_t b) {
  float f;
  memcpy(&f, &b, sizeof(f));
  return f;
}

int main() {
  unsigned a = 0, b = 0, c = 0;
  while (scanf("%x %x %x", &a, &b, &c) == 3) {
    const double real = static_cast<double>(from_bits(a)) * static_cast<double>(from_bits(b)) /
                        static_cast<double>(from_bits(c));
    int32_t m = 0;
    int s = 0;
    if (mf::qm::quantize_multiplier(real, &m, &s)) printf("%ld %d\n", static_cast<long>(m), s);
    else printf("refused\n");
  }
  return 0;
}
