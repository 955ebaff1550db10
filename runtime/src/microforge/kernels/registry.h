// Every kernel of the runtime, written once. Each row:
//   X(OP, ns, header, builtin_code, min_version, max_version)
// OP is the TFLite builtin name (generator/microforge/model/ops.py reads this file), ns the namespace
// under mf::kernels, header the kernel's header in this folder (without .h), builtin_code the
// tflite::BuiltinOperator value, and the versions the range the registration accepts.
//
// This header declares, in each kernel's namespace, kBuiltinCode, kMinVersion, kMaxVersion and
// kRegistration; the kernel's .cpp defines kRegistration (and kPlanned where the generator can plan
// its nodes) from them. Test drivers and the fuzzer expand MF_KERNELS to register every kernel.
//
// Versions: TFLM ignores them; TFLite's converter marks features with them (e.g. CONV_2D: float
// v1, int8 per-channel v3, hybrid / grouped / int16 / int4 v4-v8). A registration accepts the
// whole range and its prepare rejects the types and layouts the runtime does not implement.
#pragma once

#include <stdint.h>

#include "microforge/runtime.h"

#define MF_KERNELS(X)                                                                         \
  X(ADD, add, arithmetic, 0, 1, 5)                                                            \
  X(AVERAGE_POOL_2D, average_pool_2d, average_pool_2d, 1, 1, 3)                              \
  X(CONCATENATION, concatenation, concatenation, 2, 1, 4)                                     \
  X(CONV_2D, conv_2d, conv_2d, 3, 1, 8)                                                       \
  X(DEPTHWISE_CONV_2D, depthwise_conv_2d, depthwise_conv_2d, 4, 1, 7)                         \
  X(DEQUANTIZE, dequantize, dequantize, 6, 1, 2)                                              \
  X(FULLY_CONNECTED, fully_connected, fully_connected, 9, 1, 9)                               \
  X(LOGISTIC, logistic, logistic, 14, 1, 3)                                                   \
  X(MAX_POOL_2D, max_pool_2d, max_pool_2d, 17, 1, 3)                                          \
  X(MUL, mul, arithmetic, 18, 1, 7)                                                           \
  X(RELU, relu, activations, 19, 1, 3)                                                        \
  X(RELU6, relu6, activations, 21, 1, 3)                                                      \
  X(RESHAPE, reshape, reshape, 22, 1, 3)                                                      \
  X(SOFTMAX, softmax, softmax, 25, 1, 3)                                                      \
  X(TANH, tanh, logistic, 28, 1, 3)                                                           \
  X(PAD, pad, pad, 34, 1, 4)                                                                  \
  X(TRANSPOSE, transpose, transpose, 39, 1, 6)                                                \
  X(MEAN, mean, mean, 40, 1, 3)                                                               \
  X(SUB, sub, arithmetic, 41, 1, 5)                                                           \
  X(SQUEEZE, squeeze, reshape, 43, 1, 2)                                                      \
  X(STRIDED_SLICE, strided_slice, strided_slice, 45, 1, 8)                                    \
  X(PADV2, padv2, pad, 60, 1, 4)                                                              \
  X(EXPAND_DIMS, expand_dims, reshape, 70, 1, 2)                                              \
  X(LEAKY_RELU, leaky_relu, activations, 98, 1, 2)                                            \
  X(QUANTIZE, quantize, quantize, 114, 1, 2)                                                  \
  X(HARD_SWISH, hard_swish, hard_swish, 117, 1, 1)

namespace mf {
namespace kernels {

#define MF_KERNEL_DECLARE(op, ns, header, code, min_version, max_version) \
  namespace ns {                                                           \
  constexpr int32_t kBuiltinCode = code; /* tflite::BuiltinOperator_##op */ \
  constexpr int32_t kMinVersion = min_version;                             \
  constexpr int32_t kMaxVersion = max_version;                             \
  extern const Registration kRegistration;                                 \
  }
MF_KERNELS(MF_KERNEL_DECLARE)
#undef MF_KERNEL_DECLARE

}  // namespace kernels
}  // namespace mf
