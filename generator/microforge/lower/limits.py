"""The kernels' limits the generator must follow, read from their one source: the runtime's
``microforge/kernels/limits.h`` (``constexpr int32_t kName = value;`` lines)."""

from __future__ import annotations

import re

from microforge.resources import runtime_dir

HEADER = "microforge/kernels/limits.h"  # inside the runtime's src/
_LINE = re.compile(r"^constexpr int32_t (k\w+) = (\d+);", re.M)


def read_limits(text: str) -> dict[str, int]:
    return {name: int(value) for name, value in _LINE.findall(text)}


LIMITS = read_limits((runtime_dir() / "src" / HEADER).read_text(encoding="utf-8"))

CONV_MAX_PATCH = LIMITS["kConvMaxPatch"]
FC_MAX_WIDE_DEPTH = LIMITS["kFcMaxWideDepth"]
FC_QUICK_CHANNELS = LIMITS["kFcQuickChannels"]
DEPTHWISE_TAP_WORDS = LIMITS["kDepthwiseTapWords"]
DEPTHWISE_MAX_BLOCK = LIMITS["kDepthwiseMaxBlock"]
DEPTHWISE_MAX_TRANSPOSED = LIMITS["kDepthwiseMaxTransposed"]
DEPTHWISE_MAX_WIDE_TRANSPOSED = LIMITS["kDepthwiseMaxWideTransposed"]
POOL_MAX_FAST_WINDOW = LIMITS["kPoolMaxFastWindow"]
SOFTMAX_MAX_DEPTH = LIMITS["kSoftmaxMaxDepth"]
