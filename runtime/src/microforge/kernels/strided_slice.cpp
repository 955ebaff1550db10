#include "microforge/kernels/strided_slice.h"

#include "microforge/flatbuffer.h"

namespace mf {
namespace kernels {
namespace strided_slice {

namespace {

// StridedSliceOptions field ids.
constexpr int kOptBeginMask = 0, kOptEndMask = 1, kOptEllipsisMask = 2, kOptNewAxisMask = 3,
              kOptShrinkAxisMask = 4, kOptOffset = 5;

Status parse(const FbTable& options, void* params) {
  Params* p = static_cast<Params*>(params);
  uint8_t offset = 0;
  if (!options.scalar<int32_t>(kOptBeginMask, 0, &p->begin_mask) ||
      !options.scalar<int32_t>(kOptEndMask, 0, &p->end_mask) ||
      !options.scalar<int32_t>(kOptEllipsisMask, 0, &p->ellipsis_mask) ||
      !options.scalar<int32_t>(kOptNewAxisMask, 0, &p->new_axis_mask) ||
      !options.scalar<int32_t>(kOptShrinkAxisMask, 0, &p->shrink_axis_mask) ||
      !options.scalar<uint8_t>(kOptOffset, 0, &offset)) {
    return Status::kBadModel;
  }
  p->offset = offset != 0;
  // TFLM ignores offset (it slices as if it were false): reject it rather than differ.
  if (p->ellipsis_mask != 0 || p->new_axis_mask != 0 || p->offset) return Status::kUnsupportedType;
  return Status::kOk;
}

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return hi < v ? hi : (v < lo ? lo : v); }

bool index_vector(const Tensor* t, int32_t n) {
  return t != nullptr && t->type == DType::kInt32 && t->is_constant && t->data != nullptr &&
         t->rank == 1 && t->dims[0] == n;
}

Status prepare(Node& node) {
  if (node.num_inputs != 4 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr) return Status::kKernelError;
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (in->type != out->type) return Status::kUnsupportedType;
  d->elem_bytes = static_cast<uint8_t>(dtype_bytes(in->type));
  if (in->type != DType::kInt8 && in->type != DType::kFloat32) return Status::kUnsupportedType;
  if (in->rank > kMaxDims) return Status::kUnsupportedType;
  const int32_t n = node.inputs[1] != nullptr ? node.inputs[1]->elements() : -1;
  if (n != in->rank || !index_vector(node.inputs[1], n) ||
      !index_vector(node.inputs[2], n) || !index_vector(node.inputs[3], n)) {
    return Status::kUnsupportedType;
  }
  const int32_t* begin = node.inputs[1]->as<int32_t>();
  const int32_t* end = node.inputs[2]->as<int32_t>();
  const int32_t* strides = node.inputs[3]->as<int32_t>();
  // Extend to 5D with whole leading axes (TFLite StridedSlicePadIndices).
  const int pad = kMaxDims - n;
  int32_t dims[kMaxDims], in_strides[kMaxDims];
  int32_t s = 1;
  for (int k = kMaxDims - 1; k >= 0; --k) {
    dims[k] = k >= pad ? in->dims[k - pad] : 1;
    in_strides[k] = s;
    s *= dims[k];
  }
  d->size = 1;
  for (int k = 0; k < kMaxDims; ++k) {
    const int i = k - pad;  // index into the op's vectors
    int32_t start = 0, stop = 1, stride = 1;
    bool begin_masked = true, end_masked = true, shrink = false;
    if (i >= 0) {
      start = begin[i];
      stop = end[i];
      stride = strides[i];
      begin_masked = (p.begin_mask >> i) & 1;
      end_masked = (p.end_mask >> i) & 1;
      shrink = (p.shrink_axis_mask >> i) & 1;
    }
    if (stride == 0) return Status::kKernelError;
    const int32_t size = dims[k];
    // StridedSliceStartForAxis
    if (start < 0) start += size;
    start = stride > 0 ? clamp(start, 0, size) : clamp(start, -1, size - 1);
    if (begin_masked) start = stride > 0 ? 0 : size - 1;
    // StridedSliceEndForAxis
    if (shrink) {
      stop = start >= size ? start : start + 1;
    } else {
      if (stop < 0) stop += size;
      stop = stride > 0 ? clamp(stop, 0, size) : clamp(stop, -1, size - 1);
      if (end_masked) stop = stride > 0 ? size : -1;
    }
    const int32_t span = stride > 0 ? stop - start : start - stop;
    const int32_t step = stride > 0 ? stride : -stride;
    d->counts[k] = span > 0 ? (span + step - 1) / step : 0;
    d->steps[k] = stride * in_strides[k];
    d->base += start * in_strides[k];
    d->size *= d->counts[k];
  }
  if (d->size != out->elements()) return Status::kKernelError;
  return Status::kOk;
}

template <typename T> void eval_typed(const OpData& d, const T* x, T* y) {
  int32_t idx[kMaxDims] = {0, 0, 0, 0, 0};
  int32_t off = d.base;
  for (int32_t o = 0; o < d.size; ++o) {
    y[o] = x[off];
    for (int k = kMaxDims - 1; k >= 0; --k) {
      off += d.steps[k];
      if (++idx[k] < d.counts[k]) break;
      off -= d.steps[k] * d.counts[k];
      idx[k] = 0;
    }
  }
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (d.elem_bytes == 4) {
    eval_typed(d, node.inputs[0]->as<uint32_t>(), node.outputs()[0]->as<uint32_t>());
  } else {
    eval_typed(d, node.inputs[0]->as<uint8_t>(), node.outputs()[0]->as<uint8_t>());
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 STRIDED_SLICE is v2 (later: 5D, int16, bool, offset).
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    parse, data_bytes, prepare, eval};

}  // namespace strided_slice
}  // namespace kernels
}  // namespace mf
