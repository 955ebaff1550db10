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

Writer& Writer::u64(uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
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
Writer& Writer::fixed6(float v) {
  if (v != v) return str("nan");
  if (v < 0) {
    chr('-');
    v = -v;
  }
  if (v > 9.0e18f) return str("inf");
  uint64_t whole = static_cast<uint64_t>(v);
  float frac = v - static_cast<float>(whole);
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

bool starts_with(const char* s, size_t n, const char* p) {
  size_t k = strlen(p);
  return n >= k && memcmp(s, p, k) == 0;
}

bool equals(const char* s, size_t n, const char* w) {
  return strlen(w) == n && memcmp(s, w, n) == 0;
}

}  // namespace proto
