// Fixed-point helpers with TFLite reference semantics (TFLM's double rounding:
// SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT). No libm: the
// frexp / round used for multipliers are implemented here, exactly.
#pragma once

#include <stdint.h>
#include <string.h>

namespace mf {
namespace qm {

// (a * b * 2) >> 32 with rounding; saturates the single overflow case.
inline int32_t sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  // The reference adds 2^30 (or 1 - 2^30 when ab < 0) and divides by 2^31
  // rounding toward zero; for negative ab that is ceil((ab + 1 - 2^30) / 2^31)
  // = floor((ab + 2^30) / 2^31), so one arithmetic shift covers both signs.
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  return static_cast<int32_t>((ab + (1ll << 30)) >> 31);
}

// x / 2^exponent rounded to nearest, ties away from zero. exponent in [0, 31].
inline int32_t rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((1ll << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

// x * multiplier * 2^shift (multiplier Q0.31), TFLite's double rounding.
inline int32_t multiply_by_quantized_multiplier(int32_t x, int32_t multiplier, int shift) {
  const int left = shift > 0 ? shift : 0;
  const int right = shift > 0 ? 0 : -shift;
  // Wrapping left shift, as the reference's int32 multiply does in practice.
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left);
  return rounding_divide_by_pot(sat_rounding_doubling_high_mul(shifted, multiplier), right);
}

// frexp for finite positive doubles: v = m * 2^e, m in [0.5, 1).
inline double frexp_pos(double v, int* e) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof(bits));
  int adjust = 0;
  if (((bits >> 52) & 0x7ffu) == 0) {  // subnormal: scale into the normal range
    v *= 18014398509481984.0;          // 2^54
    memcpy(&bits, &v, sizeof(bits));
    adjust = -54;
  }
  const int exp = static_cast<int>((bits >> 52) & 0x7ffu);
  *e = exp - 1022 + adjust;
  bits = (bits & ~(0x7ffull << 52)) | (1022ull << 52);
  double m;
  memcpy(&m, &bits, sizeof(m));
  return m;
}

// TFLite QuantizeMultiplier: real = multiplier * 2^(shift - 31). Returns false
// for a negative, infinite or NaN input, or one needing a left shift above 30
// (x * 2^shift would overflow int32); the callers reject such tensors.
inline bool quantize_multiplier(double real, int32_t* multiplier, int* shift) {
  if (!(real >= 0.0) || real > 1.7976931348623157e308) return false;
  if (real == 0.0) {
    *multiplier = 0;
    *shift = 0;
    return true;
  }
  int e = 0;
  const double q = frexp_pos(real, &e);
  // q * 2^31 is in [2^30, 2^31) and exact; +0.5 then truncation is round-half-up.
  int64_t q_fixed = static_cast<int64_t>(q * 2147483648.0 + 0.5);
  if (q_fixed == (1ll << 31)) {
    q_fixed /= 2;
    ++e;
  }
  if (e < -31) {
    e = 0;
    q_fixed = 0;
  }
  if (e > 30) return false;
  *multiplier = static_cast<int32_t>(q_fixed);
  *shift = e;
  return true;
}

// round() (half away from zero) then saturating conversion to int32.
inline int32_t round_to_int32(double v) {
  if (!(v == v)) return 0;  // NaN
  if (v >= 2147483647.0) return INT32_MAX;
  if (v <= -2147483648.0) return INT32_MIN;
  const int64_t t = static_cast<int64_t>(v);  // truncates toward zero
  const double frac = v - static_cast<double>(t);  // exact
  if (frac >= 0.5) return static_cast<int32_t>(t + 1);
  if (frac <= -0.5) return static_cast<int32_t>(t - 1);
  return static_cast<int32_t>(t);
}

// round() then int32 conversion the way the reference's static_cast behaves on
// x86 (cvt): NaN and out-of-range values become INT32_MIN. Callers then add the
// zero point with wrap_add and clamp, reproducing TFLM's results for those inputs
// (on Arm, TFLM agrees for every input except NaN).
inline int32_t round_to_int32_cvt(double v) {
  if (!(v > -2147483648.5 && v < 2147483647.5)) return INT32_MIN;
  return round_to_int32(v);
}

// Same for a float value (roundf semantics: the rounding is done in float).
inline int32_t round_to_int32(float v) { return round_to_int32(static_cast<double>(v)); }

// Two's complement wrapping add (what the reference's int32 add does in practice).
inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

inline int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

}  // namespace qm
}  // namespace mf
