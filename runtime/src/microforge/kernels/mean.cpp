#include "microforge/kernels/mean.h"

#include <float.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace mean {

namespace {

constexpr int kOptKeepDims = 0;  // ReducerOptions.keep_dims

Status parse(const FbTable& options, void* params) {
  uint8_t keep = 0;
  if (!options.scalar<uint8_t>(kOptKeepDims, 0, &keep)) return Status::kBadModel;
  static_cast<Params*>(params)->keep_dims = keep != 0;
  return Status::kOk;
}

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

bool scale_ok(float s) { return s > 0.0f && s <= FLT_MAX; }

// Reads the constant axis tensor (negative axes count from the end, repeats allowed).
Status resolve_axes(const Tensor& in, const Tensor& axis, bool reduced[kMaxRank]) {
  if (axis.type != DType::kInt32 || !axis.is_constant || axis.data == nullptr) {
    return Status::kUnsupportedType;
  }
  const int32_t n = axis.elements();
  const int32_t* a = axis.as<int32_t>();
  for (int i = 0; i < kMaxRank; ++i) reduced[i] = false;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t k = a[i] < 0 ? a[i] + in.rank : a[i];
    if (k < 0 || k >= in.rank) return Status::kKernelError;
    reduced[k] = true;
  }
  return Status::kOk;
}

Status prepare_int8(const Tensor& in, const Tensor& out, OpData* d) {
  if (out.type != DType::kInt8) return Status::kUnsupportedType;
  if (in.num_channels != 1 || out.num_channels != 1) return Status::kUnsupportedType;
  if (!scale_ok(in.scale) || !scale_ok(out.scale) || in.zero_point < -128 || in.zero_point > 127 ||
      out.zero_point < -128 || out.zero_point > 127) {
    return Status::kKernelError;
  }
  d->input_zero_point = in.zero_point;
  d->output_zero_point = out.zero_point;
  int shift = 0;
  const double real = static_cast<double>(in.scale) / static_cast<double>(out.scale);
  if (!qm::quantize_multiplier(real, &d->multiplier, &shift)) return Status::kKernelError;
  d->shift = shift;
  // TFLite QuantizedMeanOrSum: fold 1 / count into the multiplier.
  int s = 0;
  while ((static_cast<int64_t>(d->count) >> (s + 1)) != 0) ++s;  // floor(log2(count))
  if (s > 31 + shift) s = 31 + shift;
  if (s < 0) return Status::kKernelError;
  d->multiplier = static_cast<int32_t>((static_cast<int64_t>(d->multiplier) << s) / d->count);
  d->shift = shift - s;
  return Status::kOk;
}

Status prepare(Node& node) {
  if (node.num_inputs != 2 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* axis = node.inputs[1];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || axis == nullptr || out == nullptr) return Status::kKernelError;
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  bool reduced[kMaxRank];
  const Status s = resolve_axes(*in, *axis, reduced);
  if (s != Status::kOk) return s;
  int32_t stride = 1;
  int32_t strides[kMaxRank];
  for (int k = in->rank - 1; k >= 0; --k) {
    strides[k] = stride;
    stride *= in->dims[k];
  }
  d->outputs = 1;
  d->count = 1;
  for (int k = 0; k < in->rank; ++k) {
    if (reduced[k]) {
      d->reduced_dims[d->num_reduced] = in->dims[k];
      d->reduced_strides[d->num_reduced++] = strides[k];
      d->count *= in->dims[k];
    } else {
      d->outer_dims[d->num_outer] = in->dims[k];
      d->outer_strides[d->num_outer++] = strides[k];
      d->outputs *= in->dims[k];
    }
  }
  if (d->count <= 0 || out->elements() != d->outputs) return Status::kKernelError;
  if (p.keep_dims ? out->rank != in->rank : out->rank != d->num_outer) return Status::kKernelError;
  if (in->type == DType::kFloat32) {
    if (out->type != DType::kFloat32) return Status::kUnsupportedType;
    d->is_float = true;
    return Status::kOk;
  }
  if (in->type != DType::kInt8) return Status::kUnsupportedType;
  return prepare_int8(*in, *out, d);
}

// Advances a multi-index over dims (innermost last); false after the last one.
bool next(int32_t* idx, const int32_t* dims, const int32_t* strides, int32_t n, int32_t* offset) {
  for (int32_t k = n - 1; k >= 0; --k) {
    *offset += strides[k];
    if (++idx[k] < dims[k]) return true;
    *offset -= strides[k] * dims[k];
    idx[k] = 0;
  }
  return false;
}

// Sum of one output's inputs (base = offset of its first), in memory order.
template <typename Acc, typename In>
Acc reduce_sum(const OpData& d, const In* x, int32_t base) {
  int32_t idx[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int32_t off = 0;
  Acc sum = 0;
  do {
    sum += static_cast<Acc>(x[base + off]);
  } while (next(idx, d.reduced_dims, d.reduced_strides, d.num_reduced, &off));
  return sum;
}

// Integer sums wrap like the reference's int32 arithmetic.
int32_t reduce_sum_int(const OpData& d, const int8_t* x, int32_t base) {
  int32_t idx[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int32_t off = 0;
  uint32_t sum = 0;
  do {
    sum += static_cast<uint32_t>(static_cast<int32_t>(x[base + off]));
  } while (next(idx, d.reduced_dims, d.reduced_strides, d.num_reduced, &off));
  return static_cast<int32_t>(sum);
}

int32_t mean_int8(const OpData& d, int32_t sum) {
  // int64 difference truncated to int32, as the reference computes it.
  const int64_t diff = static_cast<int64_t>(sum) - static_cast<int64_t>(d.input_zero_point) * d.count;
  const int32_t shifted = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(diff)));
  const int32_t acc = qm::multiply_by_quantized_multiplier(shifted, d.multiplier, d.shift);
  return qm::clamp(acc + d.output_zero_point, -128, 127);
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  int32_t idx[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int32_t base = 0;
  int32_t o = 0;
  if (d.is_float) {
    const float* x = node.inputs[0]->as<float>();
    float* y = node.outputs()[0]->as<float>();
    const float n = static_cast<float>(d.count);
    do {
      y[o++] = reduce_sum<float>(d, x, base) / n;
    } while (next(idx, d.outer_dims, d.outer_strides, d.num_outer, &base));
  } else {
    const int8_t* x = node.inputs[0]->as<int8_t>();
    int8_t* y = node.outputs()[0]->as<int8_t>();
    do {
      y[o++] = static_cast<int8_t>(mean_int8(d, reduce_sum_int(d, x, base)));
    } while (next(idx, d.outer_dims, d.outer_strides, d.num_outer, &base));
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 MEAN is v2 (v3 = uint8 / int16). Types are checked in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    parse, data_bytes, prepare, eval};

}  // namespace mean
}  // namespace kernels
}  // namespace mf
