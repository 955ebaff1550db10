#include "microforge/kernels/channel_quant.h"

#include <float.h>

#include "microforge/kernels/quant_math.h"

namespace mf {
namespace kernels {

Status channel_requant(const Node& node, const Tensor& in, const Tensor& w, const Tensor& out,
                       int dim, int32_t channels, int32_t* own, const int32_t** mult,
                       const int32_t** shift) {
  if (w.quantized_dimension != dim || w.num_channels != channels) return Status::kUnsupportedType;
  for (int32_t c = 0; c < channels; ++c) {
    const float ws = w.scales[c];
    if (w.zero_points[c] != 0 || !(ws > 0.0f && ws <= FLT_MAX)) return Status::kUnsupportedType;
  }
  const ChannelQuant* cq = node.channel_quant;
  if (cq != nullptr) {
    if (cq->channels != channels) return Status::kBadPlan;
    *mult = cq->multipliers;
    *shift = cq->shifts;
    return Status::kOk;
  }
  if (own == nullptr) return Status::kKernelError;
  int32_t* m = own;
  int32_t* s = own + channels;
  for (int32_t c = 0; c < channels; ++c) {
    const double real = static_cast<double>(in.scale) * static_cast<double>(w.scales[c]) /
                        static_cast<double>(out.scale);
    int sh = 0;
    if (!qm::quantize_multiplier(real, &m[c], &sh)) return Status::kKernelError;
    s[c] = sh;
  }
  *mult = m;
  *shift = s;
  return Status::kOk;
}

}  // namespace kernels
}  // namespace mf
