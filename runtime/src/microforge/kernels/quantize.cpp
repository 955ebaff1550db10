#include "microforge/kernels/quantize.h"

#include <float.h>

#include "microforge/flatbuffer.h"
#include "microforge/kernels/quant_math.h"

namespace mf {
namespace kernels {
namespace quantize {

namespace {

Status parse(const FbTable& /*options*/, void* /*params*/) { return Status::kOk; }

size_t data_bytes(int32_t out_channels) { return op_data_bytes(out_channels); }

bool scale_ok(float s) { return s > 0.0f && s <= FLT_MAX; }

Status prepare(Node& node) {
  if (node.num_inputs != 1 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr) return Status::kKernelError;
  if (in->elements() != out->elements()) return Status::kKernelError;
  if (out->type != DType::kInt8 || out->num_channels != 1 || !scale_ok(out->scale) ||
      out->zero_point < -128 || out->zero_point > 127) {
    return Status::kUnsupportedType;
  }
  OpData* d = static_cast<OpData*>(node.op_data);
  *d = OpData();
  d->size = out->elements();
  d->output_zero_point = out->zero_point;
  d->scale = static_cast<double>(out->scale);
  if (in->type == DType::kFloat32) {
    d->from_float = true;
    return Status::kOk;
  }
  if (in->type != DType::kInt8 || in->num_channels != 1 || !scale_ok(in->scale) ||
      in->zero_point < -128 || in->zero_point > 127) {
    return Status::kUnsupportedType;
  }
  d->input_zero_point = in->zero_point;
  int shift = 0;
  const double effective = static_cast<double>(in->scale) / static_cast<double>(out->scale);
  if (!qm::quantize_multiplier(effective, &d->multiplier, &shift)) return Status::kKernelError;
  d->shift = shift;
  return Status::kOk;
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  int8_t* y = node.outputs()[0]->as<int8_t>();
  if (d.from_float) {
    // TFLM AffineQuantize: round(val / scale) in double, + zero point, clamp.
    // NaN / huge quotients follow the reference's x86 behaviour (see quant_math.h).
    const float* x = node.inputs[0]->as<float>();
    for (int32_t i = 0; i < d.size; ++i) {
      const int32_t q = qm::round_to_int32_cvt(static_cast<double>(x[i]) / d.scale);
      y[i] = static_cast<int8_t>(qm::clamp(qm::wrap_add(q, d.output_zero_point), -128, 127));
    }
    return Status::kOk;
  }
  // TFLM Requantize (int8 -> int8).
  const int8_t* x = node.inputs[0]->as<int8_t>();
  for (int32_t i = 0; i < d.size; ++i) {
    const int32_t v = qm::wrap_add(
        qm::multiply_by_quantized_multiplier(x[i] - d.input_zero_point, d.multiplier, d.shift),
        d.output_zero_point);
    y[i] = static_cast<int8_t>(qm::clamp(v, -128, 127));
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 QUANTIZE is v1 (v2 = int16 output), as in the
// generator's table (ops.py). Types are checked in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    parse, data_bytes, prepare, eval};

}  // namespace quantize
}  // namespace kernels
}  // namespace mf
