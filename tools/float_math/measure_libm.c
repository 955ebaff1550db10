/* Exhaustive check of the host libm's expf / tanhf against a correctly rounded reference.
 * Reference: the double-precision exp / tanh rounded to float, accepted only when the double
 * lies more than GUARD double ulps from every float rounding boundary (a midpoint); otherwise
 * the input is written to stdout as "AMBIG <hex>" for resolve_ambiguous.py (mpmath).
 * Mismatches are written as "DIFF <hex input> <hex libm> <hex reference>".
 * Build: cc -O2 measure_libm.c -o measure_libm -lm ; run: ./measure_libm exp|tanh [lo hi] */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float f_of(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t u_of(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

#define GUARD 16.0

/* 1 when rounding d to float is certainly the correct rounding of the true value, given that
 * d is within a few double ulps of it. */
static int safe_round(double d, float f) {
  if (!isfinite(f)) return fabs(d) > 0x1.fffffep127 * (1 + 0x1p-20);  /* clear overflow */
  double ulp = fabs(nextafter(d, INFINITY) - d);
  if (ulp == 0 || !isfinite(ulp)) ulp = 0x1p-1074;
  double up = (double)nextafterf(f, INFINITY), dn = (double)nextafterf(f, -INFINITY);
  double m1 = ((double)f + up) * 0.5, m2 = ((double)f + dn) * 0.5;
  if (isfinite(m1) && fabs(d - m1) <= GUARD * ulp) return 0;
  if (isfinite(m2) && fabs(d - m2) <= GUARD * ulp) return 0;
  return 1;
}

int main(int argc, char** argv) {
  int is_tanh = argc > 1 && strcmp(argv[1], "tanh") == 0;
  uint64_t lo = argc > 3 ? strtoull(argv[2], 0, 0) : 0, hi = argc > 3 ? strtoull(argv[3], 0, 0) : 0x100000000ull;
  uint64_t diff = 0, ambig = 0, finite = 0, special_diff = 0;
  uint64_t by_ulp[4] = {0};
  for (uint64_t i = lo; i < hi; ++i) {
    const uint32_t u = (uint32_t)i;
    const float x = f_of(u);
    const float got = is_tanh ? tanhf(x) : expf(x);
    if (!isfinite(x)) {
      float want = isnan(x) ? NAN : (is_tanh ? (x > 0 ? 1.0f : -1.0f) : (x > 0 ? INFINITY : 0.0f));
      if (!(isnan(want) ? isnan(got) : u_of(got) == u_of(want))) { ++special_diff; printf("SPECIAL %08x %08x\n", u, u_of(got)); }
      continue;
    }
    ++finite;
    const double d = is_tanh ? tanh((double)x) : exp((double)x);
    const float ref = (float)d;
    if (!safe_round(d, ref)) {
      ++ambig;
      printf("AMBIG %08x %08x\n", u, u_of(got));
      continue;
    }
    if (u_of(got) != u_of(ref)) {
      ++diff;
      int64_t e = (int64_t)(int32_t)u_of(got) - (int64_t)(int32_t)u_of(ref);
      if (e < 0) e = -e;
      by_ulp[e > 3 ? 3 : e]++;
      printf("DIFF %08x %08x %08x\n", u, u_of(got), u_of(ref));
    }
  }
  fprintf(stderr, "%s [%#llx,%#llx): finite %llu, differ from CR %llu (1 ulp %llu, 2 ulp %llu, >2 %llu), ambiguous %llu, special mismatches %llu\n",
          is_tanh ? "tanhf" : "expf", (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)finite,
          (unsigned long long)diff, (unsigned long long)by_ulp[1], (unsigned long long)by_ulp[2],
          (unsigned long long)by_ulp[3], (unsigned long long)ambig, (unsigned long long)special_diff);
  printf("SUMMARY %llu %llu %llu\n", (unsigned long long)finite, (unsigned long long)diff, (unsigned long long)ambig);
  return 0;
}
