// expf without libm, returning exactly what the x86-64 glibc (2.28+) expf returns, so float
// SOFTMAX / LOGISTIC give the same bits on every platform as TFLM run on a Linux host.
// Checked over all 2^32 inputs against the host's expf (tests/runtime/test_float_math.py).
#pragma once

namespace mf {
namespace fmath {

// e^x rounded to float. NaN -> NaN (quieted), +inf -> +inf, -inf -> +0, overflow -> +inf,
// underflow -> subnormal / +0 with a single rounding, like glibc's expf.
float exp_f32(float x);

}  // namespace fmath
}  // namespace mf
