// Shared by CONV_2D and DEPTHWISE_CONV_2D: parsed options, op data, and the
// prepare-time geometry and requantization math (TFLM's reference semantics:
// one multiplier per output channel from QuantizeMultiplier(in_scale *
// filter_scale / out_scale) in double; per-tensor weights share one).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "microforge/kernels/quant_math.h"
#include "microforge/runtime.h"

namespace mf {
namespace kernels {
namespace conv_common {

struct Params {
  int8_t padding;  // tflite::Padding
  uint8_t activation;
  int32_t stride_w, stride_h;
  int32_t dilation_w, dilation_h;
  int32_t depth_multiplier;  // DEPTHWISE_CONV_2D only
};

// Persistent op data; per-channel multipliers then shifts follow it unless the
// node carries the generator's (then op_data_bytes(0) is enough).
struct OpData {
  int32_t batches, in_h, in_w, in_d;
  int32_t out_h, out_w, out_d;
  int32_t f_h, f_w;
  int32_t pad_h, pad_w;
  int32_t input_offset;   // -input zero point
  int32_t output_offset;  // output zero point
  int32_t act_min, act_max;
  int32_t multiplier, shift;  // per-tensor weights
  // Per-channel weights: the generator's arrays in flash (node.channel_quant),
  // or the ones prepare computed into the bytes after this struct.
  const int32_t* channel_mult;
  const int32_t* channel_shift;
  const int32_t* quick;  // the generator's short requantization (ChannelQuant::quick), or nullptr
  const uint32_t* wide;  // the generator's widened filter (ChannelQuant::wide), or nullptr
  bool per_channel;
  bool is_float;
  float f_min, f_max;
};

constexpr size_t op_data_bytes(int32_t channels) {
  return sizeof(OpData) + 2u * sizeof(int32_t) * static_cast<size_t>(channels > 0 ? channels : 0);
}

constexpr size_t state_bytes(int32_t channels) {
  return align_state(sizeof(Params)) + align_state(op_data_bytes(channels));
}

// One int8 output from its int32 accumulator (bias included): the channel's (or
// the tensor's) multiplier, the output offset, the activation clamp.
inline int8_t requantize(const OpData& d, const int32_t* mult, const int32_t* shift, int32_t oc,
                         int32_t acc) {
  acc = d.per_channel ? qm::multiply_by_quantized_multiplier(acc, mult[oc], shift[oc])
                      : qm::multiply_by_quantized_multiplier(acc, d.multiplier, d.shift);
  return static_cast<int8_t>(qm::clamp(qm::wrap_add(acc, d.output_offset), d.act_min, d.act_max));
}

size_t data_bytes(int32_t channels);

// Checks the node's tensors and fills d (geometry, padding, activation range,
// multipliers). in_d_per_filter: the filter's input depth (CONV_2D) or 1
// (DEPTHWISE_CONV_2D); the filter must be [x, f_h, f_w, x] and out_d is taken
// from the output. channel_dim: the filter dimension holding output channels.
Status prepare(const Params& p, Node& node, int channel_dim, OpData* d);

}  // namespace conv_common
}  // namespace kernels
}  // namespace mf
