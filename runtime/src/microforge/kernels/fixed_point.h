// gemmlowp-style fixed-point math on int32 raw values, as TFLite's reference
// kernels use it (exp, 1/(1+x), (1-x)/(1+x)). A value with I integer bits is
// raw / 2^(31 - I). Additions wrap like the reference's int32 arithmetic;
// multiplications are SaturatingRoundingDoublingHighMul.
#pragma once

#include <stdint.h>

#include "microforge/kernels/quant_math.h"

namespace mf {
namespace fp {

inline int32_t add(int32_t a, int32_t b) { return qm::wrap_add(a, b); }
inline int32_t sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
inline int32_t mul(int32_t a, int32_t b) { return qm::sat_rounding_doubling_high_mul(a, b); }

// SaturatingRoundingMultiplyByPOT with exponent e > 0: saturating x * 2^e.
inline int32_t sat_shl(int32_t x, int e) {
  const int32_t threshold = static_cast<int32_t>((1u << (31 - e)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(x) << e);
}

// RoundingHalfSum: (a + b) / 2 rounded away from zero.
inline int32_t rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = static_cast<int64_t>(a) + b;
  return static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
}

// exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8.
inline int32_t exp_quarter_interval(int32_t a) {
  const int32_t kExpMinusOneEighth = 1895147668;
  const int32_t kOneThird = 715827883;
  const int32_t x = add(a, 1 << 28);
  const int32_t x2 = mul(x, x);
  const int32_t x3 = mul(x2, x);
  const int32_t x4 = mul(x2, x2);
  const int32_t x4_over_4 = qm::rounding_divide_by_pot(x4, 2);
  const int32_t poly =
      qm::rounding_divide_by_pot(add(mul(add(x4_over_4, x3), kOneThird), x2), 1);
  return add(kExpMinusOneEighth, mul(kExpMinusOneEighth, add(x, poly)));
}

// exp(a) for a <= 0 with kIntBits (<= 5) integer bits; the result is Q0.31.
template <int kIntBits> int32_t exp_negative(int32_t a) {
  constexpr int kFracBits = 31 - kIntBits;
  const int32_t kOneQuarter = 1 << (kFracBits - 2);
  const int32_t a_mod_quarter_minus_quarter = sub(a & (kOneQuarter - 1), kOneQuarter);
  int32_t result = exp_quarter_interval(sat_shl(a_mod_quarter_minus_quarter, kIntBits));
  const int32_t remainder = sub(a_mod_quarter_minus_quarter, a);
  // exp(-2^k), Q0.31, for k = -2 .. 4; bit kFracBits + k of the remainder
  // selects it (only for k < kIntBits).
  static const int32_t kFactors[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
  for (int k = -2; k <= 4 && k < kIntBits; ++k) {
    if (remainder & (1 << (kFracBits + k))) result = mul(result, kFactors[k + 2]);
  }
  return a == 0 ? INT32_MAX : result;
}

// Newton-Raphson for 1 / (1 + a), a in [0, 1) as Q0.31; the result x is Q2.29.
inline int32_t reciprocal_one_plus_q2(int32_t a) {
  const int32_t half_denominator = rounding_half_sum(a, INT32_MAX);
  const int32_t k48Over17 = 1515870810, kNeg32Over17 = -1010580540;
  int32_t x = add(k48Over17, mul(half_denominator, kNeg32Over17));
  for (int i = 0; i < 3; ++i) {
    const int32_t one_minus = sub(1 << 29, mul(half_denominator, x));
    x = add(x, sat_shl(mul(x, one_minus), 2));
  }
  return x;
}

// 1 / (1 + a), a in [0, 1): Q0.31 in and out.
inline int32_t one_over_one_plus(int32_t a) { return sat_shl(reciprocal_one_plus_q2(a), 1); }

// (1 - a) / (1 + a), a in [0, 1): Q0.31 in and out.
inline int32_t one_minus_over_one_plus(int32_t a) {
  return sat_shl(sub(reciprocal_one_plus_q2(a), 1 << 29), 2);
}

}  // namespace fp
}  // namespace mf
