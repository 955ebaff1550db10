#include "microforge/kernels/dequantize.h"

#include <float.h>

#include "microforge/flatbuffer.h"

namespace mf {
namespace kernels {
namespace dequantize {

namespace {

Status parse(const FbTable& /*options*/, void* /*params*/) { return Status::kOk; }

size_t data_bytes(int32_t out_channels) { return op_data_bytes(out_channels); }

Status prepare(Node& node) {
  if (node.num_inputs != 1 || node.num_outputs != 1) return Status::kKernelError;
  const Tensor* in = node.inputs[0];
  const Tensor* out = node.outputs()[0];
  if (in == nullptr || out == nullptr) return Status::kKernelError;
  if (in->elements() != out->elements()) return Status::kKernelError;
  if (in->type != DType::kInt8 || out->type != DType::kFloat32 || in->num_channels != 1 ||
      !(in->scale > 0.0f && in->scale <= FLT_MAX) || in->zero_point < -128 ||
      in->zero_point > 127) {
    return Status::kUnsupportedType;
  }
  OpData* d = static_cast<OpData*>(node.op_data);
  d->size = in->elements();
  d->zero_point = in->zero_point;
  d->scale = static_cast<double>(in->scale);
  return Status::kOk;
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  const int8_t* x = node.inputs[0]->as<int8_t>();
  float* y = node.outputs()[0]->as<float>();
  // TFLM Dequantize: float(double scale * (q - zero_point)).
  for (int32_t i = 0; i < d.size; ++i) {
    y[i] = static_cast<float>(d.scale * static_cast<double>(x[i] - d.zero_point));
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions; int8 DEQUANTIZE is v2 (v1 = uint8), as in the
// generator's table (ops.py). Types are checked in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, 0,
                                    parse, data_bytes, prepare, eval};

}  // namespace dequantize
}  // namespace kernels
}  // namespace mf
