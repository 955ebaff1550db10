// Packed 16-bit arithmetic of ARMv7E-M's DSP extension (Cortex-M4/M7/M33/M55):
// SXTB16 / SXTAB16 (two int8 lanes to two int16 halves, optionally plus a
// packed addend), SMLAD (two 16x16 products added to an accumulator) and
// SMLABB / SMLATT (one product of the bottom or top halves).
//
// Where the CPU has them they are single instructions; elsewhere the same
// results are computed in plain C++, so the fast kernels built on them also run
// (and are tested) on the host. All sums wrap modulo 2^32 like the reference
// kernels' int32 arithmetic.
//
// Whether the fast kernels use them is a build switch: MF_FAST_KERNELS (fast/config.h).
#pragma once

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define MF_HAVE_DSP 1
#else
#define MF_HAVE_DSP 0
#endif

namespace mf {
namespace simd {

// Four int8 at any alignment (one LDR on ARMv7-M, which allows unaligned words).
inline uint32_t load4(const int8_t* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

// Two int16 halves packed into a word, low half first.
inline uint32_t pack16(int32_t lo, int32_t hi) {
  return (static_cast<uint32_t>(lo) & 0xFFFFu) | (static_cast<uint32_t>(hi) << 16);
}

#if MF_HAVE_DSP

// Each is one instruction in inline assembly rather than an <arm_acle.h> intrinsic: GCC 7.2.1,
// which PlatformIO still pins for some Arduino cores (ArduinoCore-mbed on nordicnrf52), has no
// SIMD32 intrinsics in its arm_acle.h. Not volatile: the compiler may still merge or drop them.

// Bytes 0 and 2 of x, sign-extended, as halves.
inline uint32_t sxtb16(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(x));
  return r;
}

// Bytes 1 and 3 of x, sign-extended, as halves (x rotated right by 8 first).
inline uint32_t sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}

// a + sxtb16(x), per half (wrapping).
inline uint32_t sxtab16(uint32_t a, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2" : "=r"(r) : "r"(a), "r"(x));
  return r;
}

// a + sxtb16_ror8(x), per half (wrapping).
inline uint32_t sxtab16_ror8(uint32_t a, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}

// acc + a.lo * b.lo + a.hi * b.hi
inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}

// acc + a.lo * b.lo
inline int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlabb %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}

// acc + a.hi * b.hi
inline int32_t smlatt(uint32_t a, uint32_t b, int32_t acc) {
  int32_t r;
  __asm__("smlatt %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
  return r;
}

#else  // portable forms with the same results

inline int32_t lo16(uint32_t x) { return static_cast<int16_t>(x & 0xFFFFu); }
inline int32_t hi16(uint32_t x) { return static_cast<int16_t>(x >> 16); }
inline int32_t byte_at(uint32_t x, int i) { return static_cast<int8_t>((x >> (8 * i)) & 0xFFu); }

inline uint32_t sxtb16(uint32_t x) { return pack16(byte_at(x, 0), byte_at(x, 2)); }
inline uint32_t sxtb16_ror8(uint32_t x) { return pack16(byte_at(x, 1), byte_at(x, 3)); }
inline uint32_t sxtab16(uint32_t a, uint32_t x) {
  return pack16(lo16(a) + byte_at(x, 0), hi16(a) + byte_at(x, 2));
}
inline uint32_t sxtab16_ror8(uint32_t a, uint32_t x) {
  return pack16(lo16(a) + byte_at(x, 1), hi16(a) + byte_at(x, 3));
}
inline int32_t wrap(int64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }
inline int32_t smlad(uint32_t a, uint32_t b, int32_t acc) {
  return wrap(static_cast<int64_t>(acc) + lo16(a) * lo16(b) + hi16(a) * hi16(b));
}
inline int32_t smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return wrap(static_cast<int64_t>(acc) + lo16(a) * lo16(b));
}
inline int32_t smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return wrap(static_cast<int64_t>(acc) + hi16(a) * hi16(b));
}

#endif

}  // namespace simd
}  // namespace mf
