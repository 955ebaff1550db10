#include "microforge/kernels/hard_swish.h"

#include <float.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/quant_math.h"

#include "microforge/kernels/exact_float.h"  // no fused multiply-add below

namespace mf {
namespace kernels {
namespace hard_swish {

namespace {

Status parse(const FbTable& /*options*/, void* /*params*/) { return Status::kOk; }

size_t data_bytes(int32_t channels) { return op_data_bytes(channels); }

// TFLite DownScaleInt32ToInt16Multiplier: round a Q0.31 multiplier to Q0.15.
int16_t to_q15(int32_t m) {
  if (m >= INT32_MAX - (1 << 15)) return INT16_MAX;
  return static_cast<int16_t>((m + (1 << 15)) >> 16);
}

Status prepare(Node& node) {
  if (node.num_inputs != 1 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr) return Status::kKernelError;
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  if (in->elements() != out->elements()) return Status::kKernelError;
  d->size = in->elements();
  if (in->type == DType::kFloat32) {
    if (out->type != DType::kFloat32) return Status::kUnsupportedType;
    d->is_float = true;
    return Status::kOk;
  }
  if (in->type != DType::kInt8 || out->type != DType::kInt8 || in->num_channels != 1 ||
      out->num_channels != 1) {
    return Status::kUnsupportedType;
  }
  if (!(in->scale > 0.0f && in->scale <= FLT_MAX) || !(out->scale > 0.0f && out->scale <= FLT_MAX) ||
      in->zero_point < -128 || in->zero_point > 127 || out->zero_point < -128 ||
      out->zero_point > 127) {
    return Status::kKernelError;
  }
  d->input_zero_point = in->zero_point;
  d->output_zero_point = out->zero_point;
  // TFLM hard_swish_common.cc: float quotients, then QuantizeMultiplier.
  const float hires_input_scale = (1.0f / 128.0f) * in->scale;
  const float reluish_scale = 3.0f / 32768.0f;
  int32_t m = 0;
  int e = 0;
  if (!qm::quantize_multiplier(static_cast<double>(hires_input_scale / out->scale), &m, &e)) {
    return Status::kKernelError;
  }
  d->output_multiplier = to_q15(m);
  d->output_exponent = e;
  if (!qm::quantize_multiplier(static_cast<double>(hires_input_scale / reluish_scale), &m, &e)) {
    return Status::kKernelError;
  }
  d->reluish_multiplier = to_q15(m);
  d->reluish_exponent = e;
  // TFLM requires output_exponent <= 0; int16 shifts beyond 15 are not supported.
  if (d->output_exponent > 0 || d->output_exponent < -15 || d->reluish_exponent < -15 ||
      d->reluish_exponent > 15) {
    return Status::kUnsupportedType;
  }
  return Status::kOk;
}

// gemmlowp SaturatingRoundingDoublingHighMul for int16.
int16_t srdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  const int32_t ab = static_cast<int32_t>(a) * b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return static_cast<int16_t>((ab + nudge) / (1 << 15));
}

// SaturatingDoublingHighMul: like srdhm16 but rounding toward zero.
int16_t sdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  return static_cast<int16_t>((static_cast<int32_t>(a) * b) / (1 << 15));
}

int16_t sat_shl16(int16_t v, int amount) {
  const int32_t r = static_cast<int32_t>(v) * (1 << amount);
  return static_cast<int16_t>(r > INT16_MAX ? INT16_MAX : (r < INT16_MIN ? INT16_MIN : r));
}

// gemmlowp RoundingDivideByPOT on int16 values, exponent in [0, 15].
int16_t rdbp16(int16_t x, int exponent) {
  return static_cast<int16_t>(qm::rounding_divide_by_pot(x, exponent));
}

void eval_int8(const OpData& d, const int8_t* x, int8_t* y) {
  for (int32_t i = 0; i < d.size; ++i) {
    const int16_t v = static_cast<int16_t>(x[i] - d.input_zero_point);
    const int16_t hires = static_cast<int16_t>(v * (1 << 7));
    const int16_t preshift = srdhm16(hires, d.output_multiplier);
    int16_t reluish = hires;
    if (d.reluish_exponent > 0) reluish = sat_shl16(reluish, d.reluish_exponent - 1);
    reluish = srdhm16(reluish, d.reluish_multiplier);
    if (d.reluish_exponent > 0) reluish = sat_shl16(reluish, 1);
    if (d.reluish_exponent < 0) reluish = rdbp16(reluish, -d.reluish_exponent);
    reluish = static_cast<int16_t>((reluish + (1 << 15)) >> 1);  // [-1, 1] -> [0, 1]
    int32_t out = rdbp16(sdhm16(reluish, preshift), -d.output_exponent);
    out = static_cast<int16_t>(out + d.output_zero_point);
    y[i] = static_cast<int8_t>(qm::clamp(out, -128, 127));
  }
}

void eval_float(const OpData& d, const float* x, float* y) {
  for (int32_t i = 0; i < d.size; ++i) {
    const float v = x[i];
    float r = v + 3.0f;
    r = (0.0f < r) ? r : 0.0f;  // std::max(0, v + 3)
    r = (r < 6.0f) ? r : 6.0f;  // std::min(6, ...)
    y[i] = v * r / 6.0f;
  }
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  if (d.is_float) {
    eval_float(d, node.inputs[0]->as<float>(), node.outputs()[0]->as<float>());
  } else {
    eval_int8(d, node.inputs[0]->as<int8_t>(), node.outputs()[0]->as<int8_t>());
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; HARD_SWISH has only v1. Types are checked in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    parse, data_bytes, prepare, eval};

}  // namespace hard_swish
}  // namespace kernels
}  // namespace mf
