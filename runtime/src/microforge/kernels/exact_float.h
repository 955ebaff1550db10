// Included last by the kernels whose float arithmetic must round every product
// and sum separately, as TFLM's reference kernels do on x86-64: no fused
// multiply-add contraction for the rest of the including file.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
