// Bounds-checked reader for the flatbuffer wire format (own implementation).
//
// Every offset, vtable and vector length is checked against the buffer end
// before use; a failed check makes the accessor return false, it never reads
// outside [buf, buf + size). Values are read with memcpy (no alignment needed,
// little-endian host assumed, as on every target we build for).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

namespace mf {

// Little-endian load of a trivially copyable value (caller checked bounds).
template <typename T> inline T fb_load(const uint8_t* p) {
  T v;
  memcpy(&v, p, sizeof(T));
  return v;
}

class FbTable;

// A vector inside the buffer: `count` elements of `elem_size` bytes at data.
class FbVector {
 public:
  FbVector() = default;
  // Vector at absolute position pos (uint32 length prefix, then elements).
  static bool at(const uint8_t* buf, size_t size, size_t pos, uint32_t elem_size,
                 FbVector* out);
  uint32_t size() const { return count_; }
  const uint8_t* data() const { return data_; }
  // Scalar element i (false when i is out of range or elem size mismatches).
  template <typename T> bool get(uint32_t i, T* out) const {
    if (i >= count_ || sizeof(T) != elem_size_) return false;
    *out = fb_load<T>(data_ + static_cast<size_t>(i) * sizeof(T));
    return true;
  }
  // Table element i (vector of offsets to tables).
  bool table(uint32_t i, FbTable* out) const;
  // String element i: bytes and length (not including the terminator).
  bool string(uint32_t i, const char** str, uint32_t* len) const;

 private:
  friend class FbTable;
  const uint8_t* buf_ = nullptr;
  size_t buf_size_ = 0;
  const uint8_t* data_ = nullptr;
  uint32_t count_ = 0;
  uint32_t elem_size_ = 0;
};

// A table view. A default-constructed FbTable is empty: every field absent.
class FbTable {
 public:
  FbTable() = default;

  // Root table of a buffer (uoffset at byte 0). Checks the whole vtable.
  static bool root(const uint8_t* buf, size_t size, FbTable* out);
  // Table at absolute position pos in the buffer.
  static bool at(const uint8_t* buf, size_t size, size_t pos, FbTable* out);

  bool empty() const { return buf_ == nullptr; }
  bool has(int field) const { return field_offset(field) != 0; }

  // Scalar field: *out = value, or def when absent. False if malformed.
  template <typename T> bool scalar(int field, T def, T* out) const {
    size_t fo = 0;
    if (!field_pos(field, sizeof(T), &fo)) return false;
    *out = fo ? fb_load<T>(buf_ + fo) : def;
    return true;
  }
  // Sub-table field; absent -> empty table and true.
  bool table(int field, FbTable* out) const;
  // Vector field with elements of elem_size bytes; absent -> empty vector.
  bool vector(int field, uint32_t elem_size, FbVector* out) const;

 private:
  friend class FbVector;
  uint16_t field_offset(int field) const;
  // Absolute position of a field's bytes (0 when absent); false if malformed.
  bool field_pos(int field, size_t bytes, size_t* pos) const;
  // Follows the uoffset stored at field -> absolute target (0 when absent).
  bool follow(int field, size_t* target) const;

  const uint8_t* buf_ = nullptr;
  size_t size_ = 0;
  size_t pos_ = 0;      // table start
  size_t vtable_ = 0;   // vtable start
  uint16_t vsize_ = 0;  // vtable bytes
  uint16_t osize_ = 0;  // object bytes
};

}  // namespace mf
