#include "microforge/kernels/arithmetic.h"

#include <float.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/fast/config.h"
#include "microforge/kernels/quant_math.h"
#include "microforge/kernels/requant.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace arithmetic {

namespace {

constexpr int kOptActivation = 0;  // Add/Sub/MulOptions.fused_activation_function
constexpr int kLeftShift = 20;     // int8 ADD / SUB headroom
enum class Kind : uint8_t { kAdd, kSub, kMul };

Status parse(const FbTable& options, void* params) {
  int8_t act = 0;
  if (!options.scalar<int8_t>(kOptActivation, 0, &act)) return Status::kBadModel;
  if (!activation_supported(act)) return Status::kUnsupportedType;
  static_cast<Params*>(params)->activation = static_cast<uint8_t>(act);
  return Status::kOk;
}

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

bool scale_ok(float s) { return s > 0.0f && s <= FLT_MAX; }
bool zero_point_ok(int32_t z) { return z >= -128 && z <= 127; }

// Broadcast strides of one input against the output shape in d->dims.
bool broadcast_strides(const Tensor& in, const OpData& d, int32_t* stride) {
  const int pad = kMaxRank - in.rank;
  if (pad < 0) return false;
  int32_t s = 1;
  for (int k = kMaxRank - 1; k >= 0; --k) {
    const int32_t dim = k >= pad ? in.dims[k - pad] : 1;
    if (dim != d.dims[k] && dim != 1) return false;
    stride[k] = (dim == 1 && d.dims[k] != 1) ? 0 : s;
    s *= dim;
  }
  return true;
}

// TFLite QuantizeMultiplierSmallerThanOneExp: 0 < real < 1.
bool multiplier_below_one(double real, int32_t* m, int32_t* shift) {
  int sh = 0;
  if (!(real > 0.0 && real < 1.0) || !qm::quantize_multiplier(real, m, &sh) || sh > 0) {
    return false;
  }
  *shift = sh;
  return true;
}

Status prepare_int8(Kind kind, const Params& p, const Tensor& a, const Tensor& b, const Tensor& out,
                    OpData* d) {
  if (b.type != DType::kInt8 || out.type != DType::kInt8) return Status::kUnsupportedType;
  if (a.num_channels != 1 || b.num_channels != 1 || out.num_channels != 1) {
    return Status::kUnsupportedType;
  }
  if (!scale_ok(a.scale) || !scale_ok(b.scale) || !scale_ok(out.scale) ||
      !zero_point_ok(a.zero_point) || !zero_point_ok(b.zero_point) ||
      !zero_point_ok(out.zero_point)) {
    return Status::kKernelError;
  }
  d->input1_offset = -a.zero_point;
  d->input2_offset = -b.zero_point;
  d->output_offset = out.zero_point;
  activation_range_int8(p.activation, out, &d->act_min, &d->act_max);
  if (kind == Kind::kMul) {
    const double real = static_cast<double>(a.scale) * static_cast<double>(b.scale) /
                        static_cast<double>(out.scale);
    int sh = 0;
    if (!qm::quantize_multiplier(real, &d->output_multiplier, &sh)) return Status::kKernelError;
    d->output_shift = sh;
    return Status::kOk;
  }
  const float max_scale = a.scale > b.scale ? a.scale : b.scale;
  double r1, r2, ro;
  if (kind == Kind::kAdd) {  // TFLM add_common.cc: double arithmetic
    const double twice = 2 * static_cast<double>(max_scale);
    r1 = static_cast<double>(a.scale) / twice;
    r2 = static_cast<double>(b.scale) / twice;
    ro = twice / (static_cast<double>(1 << kLeftShift) * static_cast<double>(out.scale));
  } else {  // TFLM sub_common.cc: float arithmetic
    const float twice = 2 * max_scale;
    r1 = static_cast<double>(a.scale / twice);
    r2 = static_cast<double>(b.scale / twice);
    ro = static_cast<double>(twice / (static_cast<float>(1 << kLeftShift) * out.scale));
  }
  if (!multiplier_below_one(r1, &d->input1_multiplier, &d->input1_shift) ||
      !multiplier_below_one(r2, &d->input2_multiplier, &d->input2_shift) ||
      !multiplier_below_one(ro, &d->output_multiplier, &d->output_shift)) {
    return Status::kKernelError;
  }
  return Status::kOk;
}

Status prepare(Kind kind, Node& node) {
  if (node.num_inputs != 2 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* a = node.inputs[0];
  const Tensor* b = node.inputs[1];
  const Tensor* out = node.outputs()[0];
  if (a == nullptr || b == nullptr || out == nullptr) return Status::kKernelError;
  const Params& p = *static_cast<const Params*>(node.params);
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (a->type != b->type || a->type != out->type) return Status::kUnsupportedType;
  const int pad = kMaxRank - out->rank;
  for (int k = 0; k < kMaxRank; ++k) d->dims[k] = k >= pad ? out->dims[k - pad] : 1;
  if (!broadcast_strides(*a, *d, d->stride1) || !broadcast_strides(*b, *d, d->stride2)) {
    return Status::kKernelError;
  }
  // Every output dimension must come from an input (no broadcasting into the output).
  for (int k = 0; k < kMaxRank; ++k) {
    const int pa = kMaxRank - a->rank, pb = kMaxRank - b->rank;
    const int32_t da = k >= pa ? a->dims[k - pa] : 1, db = k >= pb ? b->dims[k - pb] : 1;
    if (d->dims[k] != (da > db ? da : db)) return Status::kKernelError;
  }
  bool same = a->rank == b->rank;
  for (int k = 0; same && k < a->rank; ++k) same = a->dims[k] == b->dims[k];
  if (!same && out->rank > 4) return Status::kUnsupportedType;
  d->same_shape = same;
  d->size = out->elements();
  if (a->type == DType::kFloat32) {
    d->is_float = true;
    activation_range_float(p.activation, &d->f_min, &d->f_max);
    return Status::kOk;
  }
  if (a->type != DType::kInt8) return Status::kUnsupportedType;
  return prepare_int8(kind, p, *a, *b, *out, d);
}

// Visits the output in order with the matching input element indices.
template <typename F> void for_each(const OpData& d, F f) {
  int32_t idx[kMaxRank] = {0, 0, 0, 0, 0, 0};
  int32_t i1 = 0, i2 = 0;
  for (int32_t o = 0; o < d.size; ++o) {
    f(o, i1, i2);
    for (int k = kMaxRank - 1; k >= 0; --k) {
      i1 += d.stride1[k];
      i2 += d.stride2[k];
      if (++idx[k] < d.dims[k]) break;
      i1 -= d.stride1[k] * d.dims[k];
      i2 -= d.stride2[k] * d.dims[k];
      idx[k] = 0;
    }
  }
}

// MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0).
int32_t scale_down(int32_t x, int32_t m, int32_t shift) {
  return qm::rounding_divide_by_pot(qm::sat_rounding_doubling_high_mul(x, m), -shift);
}

#if MF_FAST_KERNELS
// ADD / SUB of int8 tensors: each input's scaled term depends on its value
// alone, so from kTableMin elements on both terms come from 256-entry tables
// built per call (the same scale_down results, doubled), SUB's negated; the
// output's requantization takes the short form (QuickRequant) when the tables'
// largest sum allows it: on DSP cores four elements a step in assembly (issue 22:
// 11.5 instructions an element instead of 22-25).
constexpr int32_t kTableMin = 512;

// The tables' 2 KB live in a frame of their own.
#if defined(__GNUC__)
#define MF_NOINLINE_ARITH __attribute__((noinline))
#else
#define MF_NOINLINE_ARITH
#endif

// The assembly needs the registers an optimized build leaves (as fast/common.h's MF_DSP_ASM).
#if MF_HAVE_DSP && defined(__OPTIMIZE__)
#define MF_ADD_ASM 1
#else
#define MF_ADD_ASM 0
#endif

#if MF_ADD_ASM
// Whole groups of four elements for the routines below (fields at fixed offsets).
struct AddJob {
  const int8_t* a;
  const int8_t* b;
  int8_t* y;
  int8_t* y_end;         // y + 4 * groups
  const int32_t* ta;     // doubled terms of input 1, indexed -128..127
  const int32_t* tb;     // of input 2 (SUB's negated)
  int32_t m, base, r;    // the output's short form (QuickRequant)
  uint32_t lo4, hi4;     // the activation range in each byte
};
static_assert(sizeof(AddJob) == 44 && offsetof(AddJob, lo4) == 36, "AddJob layout");

// One element into r0: the two terms' doubled sum, the short requantization
// (requant.h: ADD, SMMLAR, ASR) and SSAT. r1 / r2 the inputs, r5 / r6 the
// tables, r7 m, r8 base, r9 r; ip scratch.
#define MF_ADD_ELEMENT                       \
  "ldrsb r0, [r1], #1\n\t"                   \
  "ldrsb ip, [r2], #1\n\t"                   \
  "ldr r0, [r5, r0, lsl #2]\n\t"             \
  "ldr ip, [r6, ip, lsl #2]\n\t"             \
  "add r0, r0, ip\n\t"                       \
  "add ip, r8, r0, asr #31\n\t"              \
  "smmlar r0, r0, r7, ip\n\t"                \
  "asr r0, r0, r9\n\t"
// Four elements packed in lr, clamped bytewise to the activation range (max with
// r10, min with r11; SSAT alone would do for the whole int8 range, but one routine
// for both keeps the code small), stored: r3 the output, r4 its end.
__attribute__((naked, noinline)) void add_groups(const AddJob*) {
  __asm__ volatile(
      "push {r4, r5, r6, r7, r8, r9, r10, r11, lr}\n\t"
      "ldm r0, {r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11}\n\t"
      "1:\n\t"
      MF_ADD_ELEMENT "ssat lr, #8, r0\n\t"
      MF_ADD_ELEMENT "ssat r0, #8, r0\n\t" "bfi lr, r0, #8, #8\n\t"
      MF_ADD_ELEMENT "ssat r0, #8, r0\n\t" "bfi lr, r0, #16, #8\n\t"
      MF_ADD_ELEMENT "ssat r0, #8, r0\n\t" "bfi lr, r0, #24, #8\n\t"
      "ssub8 r0, lr, r10\n\t"
      "sel lr, lr, r10\n\t"
      "ssub8 r0, r11, lr\n\t"
      "sel lr, lr, r11\n\t"
      "str lr, [r3], #4\n\t"
      "cmp r3, r4\n\t"
      "bne 1b\n\t"
      "pop {r4, r5, r6, r7, r8, r9, r10, r11, pc}\n\t");
}
#undef MF_ADD_ELEMENT

inline uint32_t bytes4(int32_t v) { return static_cast<uint32_t>(static_cast<uint8_t>(v)) * 0x01010101u; }
#endif  // MF_ADD_ASM

inline int64_t larger_end(const int32_t* t) {
  const int64_t lo = magnitude(t[0]), hi = magnitude(t[255]);
  return lo > hi ? lo : hi;
}

template <Kind kKind>
MF_NOINLINE_ARITH void add_by_tables(const OpData& d, const ChannelRequant& in1, const ChannelRequant& in2,
                                     const ChannelRequant& out, const int8_t* a, const int8_t* b, int8_t* y) {
  int32_t ta[256], tb[256];  // doubled: |term| < 2^28, the short form's doubled accumulators
  for (int32_t v = -128; v < 128; ++v) {
    const int32_t sa = apply_requant(in1, (d.input1_offset + v) * (1 << kLeftShift));
    const int32_t sb = apply_requant(in2, (d.input2_offset + v) * (1 << kLeftShift));
    ta[v + 128] = 2 * sa;
    tb[v + 128] = kKind == Kind::kAdd ? 2 * sb : -2 * sb;
  }
  // Each term grows with the input value (scale_down is monotonic), so the largest
  // magnitudes sit at the tables' ends.
  const int64_t largest = (larger_end(ta) + larger_end(tb)) / 2;
  const int32_t* ma = ta + 128;
  const int32_t* mb = tb + 128;
  QuickRequant q;
  if (make_quick(d.output_multiplier, d.output_shift, d.output_offset, largest, &q)) {
    int32_t i = 0;
#if MF_ADD_ASM
    const int32_t whole = d.size & ~3;
    if (whole > 0) {
      const AddJob job = {a, b, y, y + whole, ma, mb, q.m, q.base, q.r, bytes4(d.act_min), bytes4(d.act_max)};
      add_groups(&job);
      i = whole;
    }
#endif
    for (; i < d.size; ++i) {
      const int32_t x2 = ma[a[i]] + mb[b[i]];
      const int32_t r = smmlar(x2, q.m, static_cast<int32_t>(static_cast<uint32_t>(q.base) +
                                                          static_cast<uint32_t>(x2 >> 31))) >> q.r;
      y[i] = static_cast<int8_t>(qm::clamp(r, d.act_min, d.act_max));
    }
    return;
  }
  for (int32_t i = 0; i < d.size; ++i) {
    const int32_t r = apply_requant(out, (ma[a[i]] + mb[b[i]]) / 2);
    y[i] = static_cast<int8_t>(qm::clamp(r + d.output_offset, d.act_min, d.act_max));
  }
}

// Same shapes: one flat loop, each multiplier decoded once per call into
// requant.h's one-step form (equal to the reference's for these multipliers:
// m >= 0, shift in [-31, 30]; see requant.h).
template <Kind kKind>
void eval_int8_flat(const OpData& d, const int8_t* a, const int8_t* b, int8_t* y) {
  const ChannelRequant out = decode_requant(d.output_multiplier, d.output_shift);
  if (kKind == Kind::kMul) {
    for (int32_t i = 0; i < d.size; ++i) {
      const int32_t r = apply_requant(out, (d.input1_offset + a[i]) * (d.input2_offset + b[i]));
      y[i] = static_cast<int8_t>(qm::clamp(r + d.output_offset, d.act_min, d.act_max));
    }
    return;
  }
  const ChannelRequant in1 = decode_requant(d.input1_multiplier, d.input1_shift);
  const ChannelRequant in2 = decode_requant(d.input2_multiplier, d.input2_shift);
  if (d.size >= kTableMin) {
    add_by_tables<kKind>(d, in1, in2, out, a, b, y);
    return;
  }
  for (int32_t i = 0; i < d.size; ++i) {
    const int32_t sa = apply_requant(in1, (d.input1_offset + a[i]) * (1 << kLeftShift));
    const int32_t sb = apply_requant(in2, (d.input2_offset + b[i]) * (1 << kLeftShift));
    const int32_t r = apply_requant(out, kKind == Kind::kAdd ? sa + sb : sa - sb);
    y[i] = static_cast<int8_t>(qm::clamp(r + d.output_offset, d.act_min, d.act_max));
  }
}
#endif

template <Kind kKind> void eval_int8(const OpData& d, const int8_t* a, const int8_t* b, int8_t* y) {
#if MF_FAST_KERNELS
  if (d.same_shape) {
    eval_int8_flat<kKind>(d, a, b, y);
    return;
  }
#endif
  for_each(d, [&](int32_t o, int32_t i1, int32_t i2) {
    const int32_t va = d.input1_offset + a[i1];
    const int32_t vb = d.input2_offset + b[i2];
    int32_t r;
    if (kKind == Kind::kMul) {
      r = qm::multiply_by_quantized_multiplier(va * vb, d.output_multiplier, d.output_shift);
    } else {
      const int32_t sa = scale_down(va * (1 << kLeftShift), d.input1_multiplier, d.input1_shift);
      const int32_t sb = scale_down(vb * (1 << kLeftShift), d.input2_multiplier, d.input2_shift);
      r = scale_down(kKind == Kind::kAdd ? sa + sb : sa - sb, d.output_multiplier, d.output_shift);
    }
    y[o] = static_cast<int8_t>(qm::clamp(r + d.output_offset, d.act_min, d.act_max));
  });
}

template <Kind kKind> void eval_float(const OpData& d, const float* a, const float* b, float* y) {
  for_each(d, [&](int32_t o, int32_t i1, int32_t i2) {
    const float v = kKind == Kind::kAdd ? a[i1] + b[i2]
                    : kKind == Kind::kSub ? a[i1] - b[i2]
                                          : a[i1] * b[i2];
    y[o] = clamp_float(v, d.f_min, d.f_max);
  });
}

template <Kind kKind> Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (d.is_float) {
    eval_float<kKind>(d, node.inputs[0]->as<float>(), node.inputs[1]->as<float>(),
                      node.outputs()[0]->as<float>());
  } else {
    eval_int8<kKind>(d, node.inputs[0]->as<int8_t>(), node.inputs[1]->as<int8_t>(),
                     node.outputs()[0]->as<int8_t>());
  }
  return Status::kOk;
}

Status prepare_add(Node& node) { return prepare(Kind::kAdd, node); }
Status prepare_sub(Node& node) { return prepare(Kind::kSub, node); }
Status prepare_mul(Node& node) { return prepare(Kind::kMul, node); }

}  // namespace
}  // namespace arithmetic

// TFLM ignores op versions. int8 is ADD v2 / SUB v2 / MUL v2; later versions
// bring int16, int64 or 5-6D broadcasting; types and shapes are checked in prepare.
namespace ar = arithmetic;
namespace add {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(ar::Params),
                                    ar::parse, ar::data_bytes, ar::prepare_add, ar::eval<ar::Kind::kAdd>};
}  // namespace add
namespace sub {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(ar::Params),
                                    ar::parse, ar::data_bytes, ar::prepare_sub, ar::eval<ar::Kind::kSub>};
}  // namespace sub
namespace mul {
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(ar::Params),
                                    ar::parse, ar::data_bytes, ar::prepare_mul, ar::eval<ar::Kind::kMul>};
}  // namespace mul

}  // namespace kernels
}  // namespace mf
