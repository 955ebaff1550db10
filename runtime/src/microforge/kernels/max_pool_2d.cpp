#include "microforge/kernels/max_pool_2d.h"

#include <float.h>

#include "microforge/kernels/fused_activation.h"
#include "microforge/kernels/fast/config.h"
#include "microforge/kernels/quant_math.h"

namespace mf {
namespace kernels {
namespace max_pool_2d {

namespace {

using pool_common::OpData;
using pool_common::Params;

// std::max(m, v) as the reference applies it: keeps m unless m < v (NaN is skipped).
template <typename T> T keep_max(T m, T v) { return (m < v) ? v : m; }

float finish(const OpData& d, float v) { return clamp_float(v, d.f_min, d.f_max); }
int8_t finish(const OpData& d, int8_t v) {
  return static_cast<int8_t>(qm::clamp(v, d.act_min, d.act_max));
}

template <typename T>
void pool(const OpData& d, const Params& p, const T* x, T* y, T lowest) {
  const int32_t row = d.in_w * d.depth;
  for (int32_t b = 0; b < d.batches; ++b) {
    const T* xb = x + static_cast<size_t>(b) * d.in_h * row;
    for (int32_t oy = 0; oy < d.out_h; ++oy) {
      for (int32_t ox = 0; ox < d.out_w; ++ox) {
        const pool_common::Window w = pool_common::window(d, p, oy, ox);
        for (int32_t c = 0; c < d.depth; ++c) {
          T m = lowest;
          for (int32_t fy = w.fy0; fy < w.fy1; ++fy) {
            const T* xr = xb + (w.y0 + fy) * row + c;
            for (int32_t fx = w.fx0; fx < w.fx1; ++fx) m = keep_max(m, xr[(w.x0 + fx) * d.depth]);
          }
          *y++ = finish(d, m);
        }
      }
    }
  }
}

Status eval(const Node& node) {
  const OpData& d = *static_cast<const OpData*>(node.op_data);
  const Params& p = *static_cast<const Params*>(node.params);
  if (d.is_float) {
    if (!MF_FLOAT_KERNELS) return Status::kUnsupportedType;  // built with MF_MODEL_NO_FLOAT
    pool<float>(d, p, node.inputs[0]->as<float>(), node.outputs()[0]->as<float>(), -FLT_MAX);
  } else {
    pool<int8_t>(d, p, node.inputs[0]->as<int8_t>(), node.outputs()[0]->as<int8_t>(),
                 static_cast<int8_t>(-128));
  }
  return Status::kOk;
}

}  // namespace

// TFLM ignores op versions. TFLite marks float MAX_POOL_2D v1, int8 v2 and int16
// v3; we accept 1-3 as the generator's table does (ops.py) and reject int16 in
// prepare.
const Registration kRegistration = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                                    pool_common::parse, pool_common::data_bytes, pool_common::prepare, eval};

// For nodes whose params and op data the generator's plan carries (MemoryPlan::planned_ops):
// eval only, so a firmware that names it links none of the parsing and prepare code.
const Registration kPlanned = {kBuiltinCode, kMinVersion, kMaxVersion, sizeof(Params),
                               nullptr, nullptr, nullptr, eval};

}  // namespace max_pool_2d
}  // namespace kernels
}  // namespace mf
