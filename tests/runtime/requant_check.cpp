// Compares the fast kernels' requantization (kernels/requant.h: the direct form and the
// per-channel decoded one) with the reference
// kernels' qm::multiply_by_quantized_multiplier: every shift, edge accumulators and
// multipliers, and random ones. Prints the number of cases and exits 1 on a mismatch.
#include <stdint.h>
#include <stdio.h>

#include "microforge/kernels/quant_math.h"
#include "microforge/kernels/requant.h"

namespace {

uint64_t g_state = 0x9E3779B97F4A7C15ull;
uint32_t next() {  // xorshift64*
  g_state ^= g_state >> 12;
  g_state ^= g_state << 25;
  g_state ^= g_state >> 27;
  return static_cast<uint32_t>((g_state * 0x2545F4914F6CDD1Dull) >> 32);
}

long g_cases = 0;
long g_quick = 0;

// The short form (QuickRequant) where make_quick accepts the accumulator's magnitude as bound,
// with the output offset folded in.
bool check_quick(int32_t acc, int32_t m, int32_t s, int32_t want) {
  static const int32_t offsets[] = {-128, -1, 0, 3, 127};
  const int32_t off = offsets[g_cases % 5];
  const int64_t bound = acc < 0 ? -static_cast<int64_t>(acc) : acc;
  mf::kernels::QuickRequant q;
  if (!mf::kernels::make_quick(m, s, off, bound, &q)) return true;
  ++g_quick;
  const int32_t got = mf::kernels::apply_quick(q, acc);
  if (got == mf::qm::wrap_add(want, off)) return true;
  printf("quick mismatch acc=%ld m=%ld s=%ld offset=%ld: reference %ld, quick %ld\n", static_cast<long>(acc),
         static_cast<long>(m), static_cast<long>(s), static_cast<long>(off),
         static_cast<long>(mf::qm::wrap_add(want, off)), static_cast<long>(got));
  return false;
}

bool check(int32_t acc, int32_t m, int32_t s) {
  ++g_cases;
  const int32_t want = mf::qm::multiply_by_quantized_multiplier(acc, m, s);
  if (!check_quick(acc, m, s, want)) return false;
  const int32_t got = mf::kernels::fast_multiply_by_quantized_multiplier(acc, m, s);
  const int32_t decoded = mf::kernels::apply_requant(mf::kernels::decode_requant(m, s), acc);
  if (want == got && want == decoded) return true;
  printf("mismatch acc=%ld m=%ld s=%ld: reference %ld, fast %ld, decoded %ld\n", static_cast<long>(acc),
         static_cast<long>(m), static_cast<long>(s), static_cast<long>(want), static_cast<long>(got),
         static_cast<long>(decoded));
  return false;
}

}  // namespace

int main() {
  const int32_t accs[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30), -65536, -257, -256,
                          -255, -129, -128, -3, -2, -1, 0, 1, 2, 3, 127, 128, 255, 256, 65535,
                          1 << 30, (1 << 30) + 1, INT32_MAX - 1, INT32_MAX};
  const int32_t mults[] = {0, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MAX - 1, INT32_MAX};
  bool ok = true;
  for (int32_t s = -31; s <= 30; ++s) {
    for (int32_t m : mults) {
      for (int32_t a : accs) ok &= check(a, m, s);
      for (int i = 0; i < 20000; ++i) ok &= check(static_cast<int32_t>(next()), m, s);
    }
    for (int i = 0; i < 200000; ++i) {
      const int32_t m = static_cast<int32_t>((1u << 30) | (next() & 0x3FFFFFFFu));
      int32_t a = static_cast<int32_t>(next());
      if (i & 1) a >>= next() % 31;  // small magnitudes too, where rounding ties happen
      ok &= check(a, m, s);
      // Exact ties of the division by 2^r: h = k * 2^r +- 2^(r-1).
      if (s < 0 && i < 2000) {
        const int32_t r = -s;
        const int64_t k = static_cast<int32_t>(next()) >> (r > 1 ? r - 1 : 1);
        const int64_t h = k * (1ll << r) + (1ll << (r - 1)) * ((i & 2) ? 1 : -1);
        // acc * 2^30 * 2 / 2^31 = acc when m = 2^30: h itself is the high product.
        if (h >= INT32_MIN && h <= INT32_MAX) ok &= check(static_cast<int32_t>(h), 1 << 30, s);
      }
    }
  }
  printf("%ld quick\n", g_quick);
  printf("%ld cases\n", g_cases);
  return ok ? 0 : 1;
}
