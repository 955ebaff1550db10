#include "microforge/flatbuffer.h"

namespace mf {

namespace {

// True when [pos, pos + bytes) lies inside a buffer of `size` bytes.
inline bool in_bounds(size_t size, size_t pos, uint64_t bytes) {
  return pos <= size && bytes <= static_cast<uint64_t>(size - pos);
}

}  // namespace

bool FbTable::at(const uint8_t* buf, size_t size, size_t pos, FbTable* out) {
  if (buf == nullptr || !in_bounds(size, pos, 4)) return false;
  const int64_t vt = static_cast<int64_t>(pos) - fb_load<int32_t>(buf + pos);
  if (vt < 0 || !in_bounds(size, static_cast<size_t>(vt), 4)) return false;
  const size_t vtable = static_cast<size_t>(vt);
  const uint16_t vsize = fb_load<uint16_t>(buf + vtable);
  const uint16_t osize = fb_load<uint16_t>(buf + vtable + 2);
  if (vsize < 4 || (vsize & 1u) || !in_bounds(size, vtable, vsize)) return false;
  if (osize < 4 || !in_bounds(size, pos, osize)) return false;
  out->buf_ = buf;
  out->size_ = size;
  out->pos_ = pos;
  out->vtable_ = vtable;
  out->vsize_ = vsize;
  out->osize_ = osize;
  return true;
}

bool FbTable::root(const uint8_t* buf, size_t size, FbTable* out) {
  if (buf == nullptr || size < 8) return false;
  return at(buf, size, fb_load<uint32_t>(buf), out);
}

uint16_t FbTable::field_offset(int field) const {
  if (field < 0) return 0;
  const size_t idx = 4u + 2u * static_cast<size_t>(field);
  if (idx + 2u > vsize_) return 0;  // also covers the empty table (vsize_ 0)
  return fb_load<uint16_t>(buf_ + vtable_ + idx);
}

bool FbTable::field_pos(int field, size_t bytes, size_t* pos) const {
  const uint16_t vo = field_offset(field);
  if (vo == 0) {
    *pos = 0;
    return true;
  }
  if (vo < 4 || static_cast<size_t>(vo) + bytes > osize_) return false;
  *pos = pos_ + vo;  // inside the object, which at() checked
  return true;
}

bool FbTable::follow(int field, size_t* target) const {
  size_t fp = 0;
  if (!field_pos(field, 4, &fp)) return false;
  if (fp == 0) {
    *target = 0;
    return true;
  }
  const uint32_t off = fb_load<uint32_t>(buf_ + fp);
  if (off == 0 || !in_bounds(size_, fp, off)) return false;
  *target = fp + off;
  return true;
}

bool FbTable::table(int field, FbTable* out) const {
  size_t target = 0;
  if (!follow(field, &target)) return false;
  if (target == 0) {
    *out = FbTable();
    return true;
  }
  return at(buf_, size_, target, out);
}

bool FbTable::vector(int field, uint32_t elem_size, FbVector* out) const {
  size_t target = 0;
  if (!follow(field, &target)) return false;
  if (target == 0) {
    *out = FbVector();
    out->elem_size_ = elem_size;
    return true;
  }
  return FbVector::at(buf_, size_, target, elem_size, out);
}

bool FbVector::at(const uint8_t* buf, size_t size, size_t pos, uint32_t elem_size,
                  FbVector* out) {
  if (buf == nullptr || elem_size == 0 || !in_bounds(size, pos, 4)) return false;
  const uint32_t count = fb_load<uint32_t>(buf + pos);
  if (!in_bounds(size, pos + 4, static_cast<uint64_t>(count) * elem_size)) return false;
  out->buf_ = buf;
  out->buf_size_ = size;
  out->data_ = buf + pos + 4;
  out->count_ = count;
  out->elem_size_ = elem_size;
  return true;
}

bool FbVector::table(uint32_t i, FbTable* out) const {
  if (i >= count_ || elem_size_ != 4) return false;
  const size_t ep = static_cast<size_t>(data_ - buf_) + static_cast<size_t>(i) * 4u;
  const uint32_t off = fb_load<uint32_t>(data_ + static_cast<size_t>(i) * 4u);
  if (off == 0 || !in_bounds(buf_size_, ep, off)) return false;
  return FbTable::at(buf_, buf_size_, ep + off, out);
}

bool FbVector::string(uint32_t i, const char** str, uint32_t* len) const {
  if (i >= count_ || elem_size_ != 4) return false;
  const size_t ep = static_cast<size_t>(data_ - buf_) + static_cast<size_t>(i) * 4u;
  const uint32_t off = fb_load<uint32_t>(data_ + static_cast<size_t>(i) * 4u);
  if (off == 0 || !in_bounds(buf_size_, ep, off)) return false;
  FbVector bytes;
  if (!at(buf_, buf_size_, ep + off, 1, &bytes)) return false;
  // The terminating zero must be inside the buffer too.
  const size_t end = static_cast<size_t>(bytes.data_ - buf_) + bytes.count_;
  if (end >= buf_size_ || buf_[end] != 0) return false;
  *str = reinterpret_cast<const char*>(bytes.data_);
  *len = bytes.count_;
  return true;
}

}  // namespace mf
