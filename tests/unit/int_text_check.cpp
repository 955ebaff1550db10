// Host driver of test_int_text.py: the protocol writer's u64/i64/fixed6 and the MPS2 port's
// div_u64_small (time_us) against the formulas they replaced (64-bit `/` and `%`, float <->
// uint64 conversions), reimplemented below as the reference. Prints one "<check> <count>" line
// per check and every mismatch; exits 1 on any mismatch.
//
//   int_text_check          the sampled checks (edges, dense windows, strided sweeps, random)
//   int_text_check all      fixed6 on every float bit pattern (both signs), about four minutes
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

#include "protocol_io.h"
#include "div_u64_small.inc"  // div_u64_small(), copied out of runtime/src/port/mps2/port.cpp

// The port the Writer flushes to: a string.
static std::string g_out;
namespace mf {
namespace port {
void write(const char* data, size_t len) { g_out.append(data, len); }
}  // namespace port
}  // namespace mf

// ---- OLD formulas (protocol_io.cpp and mps2 port.cpp before they avoided libgcc helpers) ----

static void old_u64(std::string& s, uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) s += digits[--n];
}

static void old_i64(std::string& s, int64_t v) {
  if (v < 0) {
    s += '-';
    old_u64(s, static_cast<uint64_t>(-(v + 1)) + 1u);
    return;
  }
  old_u64(s, static_cast<uint64_t>(v));
}

static void old_fixed6(std::string& s, float v) {
  if (v != v) {
    s += "nan";
    return;
  }
  if (v < 0) {
    s += '-';
    v = -v;
  }
  if (v > 9.0e18f) {
    s += "inf";
    return;
  }
  uint64_t whole = static_cast<uint64_t>(v);
  float frac = v - static_cast<float>(whole);
  uint32_t micro = static_cast<uint32_t>(frac * 1000000.0f + 0.5f);
  if (micro >= 1000000u) {
    whole += 1;
    micro -= 1000000u;
  }
  old_u64(s, whole);
  s += '.';
  for (uint32_t div = 100000u; div > 0; div /= 10) s += static_cast<char>('0' + (micro / div) % 10);
}

static uint64_t old_div(uint64_t n, uint32_t d) { return n / d; }  // time_us(): ticks / (Hz / 1e6)

// ---- comparisons ----

static unsigned long g_failures = 0;

static void fail(const char* what, const std::string& input, const std::string& want,
                 const std::string& got) {
  if (++g_failures <= 20) {
    printf("MISMATCH %s %s: want '%s' got '%s'\n", what, input.c_str(), want.c_str(), got.c_str());
  }
}

static std::string new_text(void (*emit)(proto::Writer&, const void*), const void* arg) {
  g_out.clear();
  proto::Writer w;
  emit(w, arg);
  w.end();
  g_out.resize(g_out.size() - 2);  // "\r\n"
  return g_out;
}

static void check_u64(uint64_t v) {
  std::string want;
  old_u64(want, v);
  const std::string got = new_text(
      [](proto::Writer& w, const void* a) { w.u64(*static_cast<const uint64_t*>(a)); }, &v);
  if (got != want) fail("u64", std::to_string(v), want, got);
}

static void check_i64(int64_t v) {
  std::string want;
  old_i64(want, v);
  const std::string got = new_text(
      [](proto::Writer& w, const void* a) { w.i64(*static_cast<const int64_t*>(a)); }, &v);
  if (got != want) fail("i64", std::to_string(v), want, got);
}

static void check_fixed6(uint32_t bits) {
  float v = 0.0f;
  memcpy(&v, &bits, sizeof v);
  std::string want;
  old_fixed6(want, v);
  const std::string got = new_text(
      [](proto::Writer& w, const void* a) { w.fixed6(*static_cast<const float*>(a)); }, &v);
  if (got != want) {
    char in[32];
    snprintf(in, sizeof in, "%08x(%.9g)", bits, static_cast<double>(v));
    fail("fixed6", in, want, got);
  }
}

static void check_div(uint64_t n, uint32_t d) {
  const uint64_t want = old_div(n, d);
  const uint64_t got = div_u64_small(n, d);
  if (got != want) {
    fail("div_u64_small", std::to_string(n) + "/" + std::to_string(d), std::to_string(want),
         std::to_string(got));
  }
}

// splitmix64: a fixed, seedable sequence.
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t next() {
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static uint32_t bits_of(float f) {
  uint32_t b = 0;
  memcpy(&b, &f, sizeof b);
  return b;
}

static const uint32_t kDivisors[] = {1, 2, 3, 7, 10, 25, 32, 1000, 40000, 65535};

// Integers: u64 and i64 text, and n / d for the divisors above.
static unsigned long integers() {
  unsigned long count = 0;
  auto all = [&count](uint64_t v) {
    check_u64(v);
    check_i64(static_cast<int64_t>(v));
    for (uint32_t d : kDivisors) check_div(v, d);
    ++count;
  };
  for (uint64_t v = 0; v <= 1000000u; ++v) all(v);
  // Around every power of two and of ten, and every multiple of 2^16 below 2^20 times 2^k.
  for (int k = 0; k < 64; ++k) {
    for (int64_t dv = -1000; dv <= 1000; ++dv) all((uint64_t{1} << k) + static_cast<uint64_t>(dv));
  }
  uint64_t p10 = 1;
  for (int k = 0; k < 20; ++k, p10 *= 10u) {
    for (int64_t dv = -1000; dv <= 1000; ++dv) all(p10 + static_cast<uint64_t>(dv));
    for (uint64_t m = 1; m <= 18; ++m) all(p10 * m);  // wraps past 10^19 on purpose
  }
  for (int k = 0; k < 48; ++k) {
    for (uint64_t m = 0; m < 4096; ++m) all((m << 16 | 0xFFFFu) << k);
  }
  const uint64_t edges[] = {9u,
                            10u,
                            99u,
                            100u,
                            0xFFFFu,
                            0x10000u,
                            0xFFFFFFFFu,
                            0x100000000u,
                            0x100000009u,
                            0x1000AFFFFull,
                            10000000000000000000ull,
                            9999999999999999999ull,
                            18446744073709551615ull,
                            18446744073709551614ull,
                            9223372036854775807ull,
                            9223372036854775808ull,
                            9223372036854775809ull,
                            0xFFFFFFFF00000000ull,
                            0xFFFF0000FFFF0000ull,
                            0x0000FFFF0000FFFFull};
  for (uint64_t v : edges) {
    for (int64_t dv = -3; dv <= 3; ++dv) all(v + static_cast<uint64_t>(dv));
  }
  for (int i = 0; i < 2000000; ++i) {
    const uint64_t r = next();
    all(r >> (next() % 64u));  // every length
    all(r);
  }
  return count;
}

// fixed6 at bits and its negation (and the neighbours when `around`).
static unsigned long g_floats = 0;
static void f(uint32_t bits) {
  check_fixed6(bits & 0x7FFFFFFFu);
  check_fixed6(bits | 0x80000000u);
  g_floats += 2;
}
static void window(uint32_t center, uint32_t radius) {
  for (uint32_t b = center - radius; b != center + radius + 1; ++b) f(b);
}

static unsigned long floats() {
  const uint32_t kMaxBits = bits_of(9.0e18f);  // the largest finite input; above it "inf"
  const float specials[] = {0.0f,     INFINITY, NAN,      1.0f,      0.5f,          0.25f,
                            1e-6f,    5e-7f,    4.9999e-7f, 1.5e-6f, 0.0000005f,    0.9999995f,
                            0.999999f, 1e6f,    1e7f,     8388607.5f, 8388608.0f,   16777216.0f,
                            4294967295.0f, 4294967296.0f, 9.0e18f, 9.2233720e18f, 1e19f,
                            3.4028235e38f, 1.17549435e-38f, 1.4e-45f};
  for (float s : specials) window(bits_of(s), 64);
  window(0, 1 << 16);                             // zero and the smallest denormals
  window(0x7F800000u, 1 << 12);                   // largest finite, inf, NaNs
  window(0x7FFFFFFFu - (1 << 12), 1 << 12);       // NaN payloads
  window(bits_of(1.0f), 1 << 20);                 // around 1 (frac-only below, whole above)
  window(bits_of(8388608.0f), 1 << 16);           // 2^23: the last float with a fraction
  window(bits_of(4294967296.0f), 1 << 16);        // 2^32: whole leaves 32 bits
  window(kMaxBits, 1 << 16);                      // 9e18: the "inf" cut
  for (int e = 1; e < 255; ++e) {                 // the edges of every binade
    window(static_cast<uint32_t>(e) << 23, 256);
  }
  // Halfway cases: decimals x.dddddd5 (and their float neighbours) for several magnitudes.
  for (int i = 0; i < 200000; ++i) {
    char text[48];
    const unsigned whole_digits = static_cast<unsigned>(next() % 8u);
    uint64_t whole = next() % 10000000u;
    for (unsigned k = 7; k > whole_digits; --k) whole /= 10u;
    snprintf(text, sizeof text, "%llu.%06u5", static_cast<unsigned long long>(whole),
             static_cast<unsigned>(next() % 1000000u));
    window(bits_of(strtof(text, nullptr)), 2);
  }
  // Every float through the whole accepted range at a stride, and random bit patterns.
  for (uint32_t b = 0; b <= kMaxBits + 4096u; b += 97u) f(b);
  for (int i = 0; i < 4000000; ++i) f(static_cast<uint32_t>(next()));
  return g_floats;
}

static unsigned long all_floats() {
  uint32_t b = 0;
  do {
    check_fixed6(b);
  } while (++b != 0);
  return 1ul << 32;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "all") == 0) {
    printf("fixed6-all %lu\n", all_floats());
  } else {
    printf("integers %lu\n", integers());
    printf("fixed6 %lu\n", floats());
  }
  printf("failures %lu\n", g_failures);
  return g_failures == 0 ? 0 : 1;
}
