#include "protocol_io.h"

#include <string.h>

#include <microforge/port.h>

namespace proto {

void Writer::flush() {
  if (len_ > 0) mf::port::write(buf_, len_);
  len_ = 0;
}

Writer& Writer::chr(char c) {
  if (len_ == sizeof(buf_)) flush();
  buf_[len_++] = c;
  return *this;
}

Writer& Writer::str(const char* s) {
  while (*s) chr(*s++);
  return *this;
}

// v = hi:lo is divided by 10 per digit by long division in 16-bit digits, so every divide is
// 32-bit: a 64-bit `v % 10`, `v / 10` would link libgcc's __aeabi_uldivmod (~700 B of code).
Writer& Writer::u64(uint64_t v) {
  uint32_t hi = static_cast<uint32_t>(v >> 32);
  uint32_t lo = static_cast<uint32_t>(v);
  char digits[20];
  int n = 0;
  do {
    const uint32_t mid = (hi % 10u) << 16 | lo >> 16;         // < 10 * 2^16
    const uint32_t low = (mid % 10u) << 16 | (lo & 0xFFFFu);  // < 10 * 2^16
    hi /= 10u;
    lo = (mid / 10u) << 16 | low / 10u;
    digits[n++] = static_cast<char>('0' + low % 10u);
  } while ((hi | lo) != 0);
  while (n > 0) chr(digits[--n]);
  return *this;
}

Writer& Writer::i64(int64_t v) {
  if (v < 0) {
    chr('-');
    return u64(static_cast<uint64_t>(-(v + 1)) + 1u);
  }
  return u64(static_cast<uint64_t>(v));
}

Writer& Writer::hex(const uint8_t* data, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    chr(kDigits[data[i] >> 4]);
    chr(kDigits[data[i] & 0xF]);
  }
  return *this;
}

// Six decimals with float arithmetic only (no double, no printf float support):
// v - trunc(v) is exact in float, so only the last digit can be off by rounding.
// trunc(v), as an integer and as a float, comes from v's bits: a float <-> uint64 conversion
// would link libgcc's __aeabi_f2ulz / __aeabi_ul2f and, through them, its soft-double code.
Writer& Writer::fixed6(float v) {
  if (v != v) return str("nan");
  if (v < 0) {
    chr('-');
    v = -v;
  }
  if (v > 9.0e18f) return str("inf");
  // 0 <= v <= 9e18 < 2^63, v = m * 2^(e - 150) (e = 0, denormal or zero, is < 127 below).
  uint32_t bits = 0;
  memcpy(&bits, &v, sizeof bits);
  bits &= 0x7FFFFFFFu;  // v = -0.0f keeps its sign bit
  const int e = static_cast<int>(bits >> 23);
  const uint32_t m = (bits & 0x7FFFFFu) | 0x800000u;
  uint64_t whole = 0;
  uint32_t whole_bits = 0;  // trunc(v) as a float: +0.0f when v < 1
  if (e >= 150) {           // v >= 2^23: an integer already
    whole = static_cast<uint64_t>(m) << (e - 150);
    whole_bits = bits;
  } else if (e >= 127) {  // 1 <= v < 2^23: drop the 150 - e fraction bits
    whole = m >> (150 - e);
    whole_bits = bits & ~((1u << (150 - e)) - 1u);
  }
  float whole_f = 0.0f;
  memcpy(&whole_f, &whole_bits, sizeof whole_f);
  float frac = v - whole_f;
  uint32_t micro = static_cast<uint32_t>(frac * 1000000.0f + 0.5f);
  if (micro >= 1000000u) {
    whole += 1;
    micro -= 1000000u;
  }
  u64(whole).chr('.');
  for (uint32_t div = 100000u; div > 0; div /= 10) chr(static_cast<char>('0' + (micro / div) % 10));
  return *this;
}

void Writer::end() {
  chr('\r');
  chr('\n');
  flush();
}

bool parse_u32(const char* s, size_t n, uint32_t* out) {
  if (n == 0 || n > 10) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  if (v > 0x7FFFFFFFu) return false;
  *out = static_cast<uint32_t>(v);
  return true;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex(const char* s, size_t n, uint8_t* out) {
  if (n % 2 != 0) return false;
  for (size_t i = 0; i < n; i += 2) {
    int hi = hex_value(s[i]);
    int lo = hex_value(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i / 2] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

// Own loops, not strlen/memcmp: newlib's word-at-a-time strlen alone is ~220 B of code.
// True when the n chars at s begin with p; *p_len is then p's length.
static bool has_prefix(const char* s, size_t n, const char* p, size_t* p_len) {
  size_t i = 0;
  for (; p[i] != '\0'; ++i) {
    if (i == n || s[i] != p[i]) return false;
  }
  *p_len = i;
  return true;
}

bool starts_with(const char* s, size_t n, const char* p) {
  size_t len = 0;
  return has_prefix(s, n, p, &len);
}

bool equals(const char* s, size_t n, const char* w) {
  size_t len = 0;
  return has_prefix(s, n, w, &len) && len == n;
}

}  // namespace proto
