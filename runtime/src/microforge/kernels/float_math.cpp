#include "microforge/kernels/float_math.h"

#include <stdint.h>
#include <string.h>

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace fmath {
namespace {

// Constants derived with tools/float_math/derive_expf.py (mpmath):
// x = (k + r) * ln2 / 32 with k = nearest integer (ties to even) to x * 32/ln2 computed in
// double, |r| <= 1/2; e^x = 2^(k/32) * 2^(r/32); 2^(i/32) from a table of correctly rounded
// doubles; 2^(r/32) ~ 1 + c1 r + c2 r^2 + c3 r^3, the relative-error minimax polynomial of
// 2^t on t in [-1/64, 1/64] with the constant fixed at 1 (max relative error 1.69 * 2^-34).
// The result is the double product rounded once to float; that final rounding, not the
// polynomial's accuracy, decides the (not always correctly rounded) last bit, so the
// algorithm, constants and evaluation order all matter for bit-exactness.
constexpr double kNOverLn2 = 0x1.71547652b82fep+5;  // 32 / ln2
constexpr double kRoundShift = 0x1.8p+52;          // adding it rounds |z| < 2^51 to an integer
constexpr double kC1 = 0x1.62e42ff0c52d6p-6;
constexpr double kC2 = 0x1.ebfce50fac500p-13;
constexpr double kC3 = 0x1.c6af84b915487p-20;
constexpr double kExp2Table[32] = {
    0x1.0000000000000p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0,
    0x1.172b83c7d517bp+0, 0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0,
    0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0, 0x1.3dea64c123422p+0, 0x1.44e086061892dp+0,
    0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0, 0x1.6247eb03a5585p+0,
    0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
    0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0,
    0x1.ae89f995ad3adp+0, 0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0,
    0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0, 0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0,
};

inline uint32_t bits_of(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

inline float float_of(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

}  // namespace

float exp_f32(float x) {
  const uint32_t u = bits_of(x);
  const uint32_t a = u & 0x7fffffffu;
  if (a >= 0x42b00000u) {                  // |x| >= 88, inf or NaN
    if (a > 0x7f800000u) return x + x;     // NaN
    if (u == 0xff800000u) return 0.0f;     // -inf
    if (u & 0x80000000u) {
      // e^-104 < 2^-150 (half the smallest subnormal): rounds to +0.
      if (x < -104.0f) return 0.0f;
    } else if (x > 89.0f) {                // includes +inf; e^89 > FLT_MAX
      return float_of(0x7f800000u);
    }
  }
  // |x| <= 104: |z| < 4801, k fits an int, every step below is exact or one double rounding.
  const double z = kNOverLn2 * static_cast<double>(x);
  const double kd = (z + kRoundShift) - kRoundShift;
  const double r = z - kd;
  const int32_t k = static_cast<int32_t>(kd);
  const int32_t i = k & 31;
  // 2^(k/32) = table[i] * 2^((k - i) / 32), built by adding to the exponent field.
  uint64_t sb;
  memcpy(&sb, &kExp2Table[i], sizeof sb);
  sb += static_cast<uint64_t>(static_cast<int64_t>((k - i) / 32)) << 52;
  double s;
  memcpy(&s, &sb, sizeof s);
  // glibc's x86-64 expf has an FMA variant (chosen on CPUs with FMA + AVX2, i.e. wherever TFLM
  // references are made in practice) that rounds differently from the plain-double algorithm
  // on exactly these two inputs (measured over all 2^32 inputs); follow it there.
  if (u == 0x4202422fu) return float_of(0x56fc9f1cu);  // x = 32.564632
  if (u == 0xc27c65d9u) return float_of(0x11fa2993u);  // x = -63.099461
  const double hi = kC3 * r + kC2;
  const double r2 = r * r;
  double y = kC1 * r + 1.0;
  y = hi * r2 + y;
  return static_cast<float>(y * s);
}

}  // namespace fmath
}  // namespace mf
