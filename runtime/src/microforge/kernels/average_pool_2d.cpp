#include "microforge/kernels/average_pool_2d.h"

#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/fast/fast_int8.h"

namespace mf {
namespace kernels {
namespace average_pool_2d {

namespace {

using pool_common::OpData;
using pool_common::Params;

template <typename T, typename Reduce>
void pool(const OpData& d, const Params& p, const T* x, T* y, Reduce reduce) {
  for (int32_t b = 0; b < d.batches; ++b) {
    const T* xb = x + static_cast<size_t>(b) * d.in_h * d.in_w * d.depth;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        const pool_common::Window w = pool_common::window(d, p, oy, ox);
        for (int32_t c = 0; c < d.depth; ++c) *y++ = reduce(xb + c, w);
      }
    }
  }
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  const Params& p = *static_cast<const Params*>(node.params);
  const int32_t row = d.in_w * d.depth;
  if (d.is_float) {
    if (!MF_FLOAT_KERNELS) return Status::kUnsupportedType;  // built with MF_MODEL_NO_FLOAT
    pool<float>(d, p, node.inputs[0]->as<float>(), node.outputs()[0]->as<float>(),
                [&](const float* xb, const pool_common::Window& w) {
                  float total = 0.0f;
                  int32_t count = 0;
                  for (int32_t fy = w.fy0; fy < w.fy1; ++fy) {
                    for (int32_t fx = w.fx0; fx < w.fx1; ++fx) {
                      total += xb[(w.y0 + fy) * row + (w.x0 + fx) * d.depth];
                      ++count;
                    }
                  }
                  return clamp_float(total / static_cast<float>(count), d.f_min, d.f_max);
                });
  } else {
#if MF_FAST_KERNELS
    if (fast::average_pool(d, p, node.inputs[0]->as<int8_t>(), node.outputs()[0]->as<int8_t>())) {
      return Status::kOk;
    }
#endif
    if (!MF_POOL_REFERENCE) return Status::kUnsupportedType;  // MF_MODEL_POOL_FAST_ONLY: windows > 256
    pool<int8_t>(d, p, node.inputs[0]->as<int8_t>(), node.outputs()[0]->as<int8_t>(),
                 [&](const int8_t* xb, const pool_common::Window& w) {
                   int32_t acc = 0, count = 0;
                   for (int32_t fy = w.fy0; fy < w.fy1; ++fy) {
                     for (int32_t fx = w.fx0; fx < w.fx1; ++fx) {
                       acc += xb[(w.y0 + fy) * row + (w.x0 + fx) * d.depth];
                       ++count;
                     }
                   }
                   return pool_common::average_int8(acc, count, d);
                 });
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions. TFLite marks float AVERAGE_POOL_2D v1, int8 v2 and
// int16 v3; we accept 1-3 as the generator's table does (ops.py) and reject
// int16 in prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    pool_common::parse, pool_common::data_bytes, pool_common::prepare, eval};

// For nodes whose params and op data the generator's plan carries (MemoryPlan::planned_ops):
// eval only, so a firmware that names it links none of the parsing and prepare code.
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                               nullptr, nullptr, nullptr, eval};

}  // namespace average_pool_2d
}  // namespace kernels
}  // namespace mf
