// Small, allocation-free text helpers for the serial protocol: a buffered line
// writer over mf::port::write and the parsers the command handlers need.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace proto {

// Buffered writer: text accumulates in a fixed buffer and goes to the port when
// the buffer fills or a line ends, so arbitrarily long lines (hex dumps, result
// lists) need no more RAM than the buffer.
class Writer {
 public:
  Writer& str(const char* s);
  Writer& chr(char c);
  Writer& u64(uint64_t v);
  Writer& i64(int64_t v);
  Writer& hex(const uint8_t* data, size_t n);  // lowercase, two digits per byte
  Writer& fixed6(float v);                     // "-1.250000"; "nan", "inf", "-inf"
  void end();                                  // "\r\n" and flush

  // One whole line in one call.
  void line(const char* s) { str(s).end(); }

 private:
  void flush();
  char buf_[128] = {};  // initialized: a global Writer is then constant-initialized (no constructor)
  size_t len_ = 0;
};

// Decimal digits only, no sign, no overflow past 2^31-1. Returns false otherwise.
bool parse_u32(const char* s, size_t n, uint32_t* out);

// Decodes n hex digits (either case) into out (n/2 bytes). Returns false on an
// odd count or a non-hex character; out is then unspecified.
bool parse_hex(const char* s, size_t n, uint8_t* out);

// True when the string s of length n starts with the NUL-terminated prefix p.
bool starts_with(const char* s, size_t n, const char* p);
// True when s (length n) equals the NUL-terminated word w.
bool equals(const char* s, size_t n, const char* w);

}  // namespace proto
