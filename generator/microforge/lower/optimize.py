"""What a project's flash is spent on (`microforge new --optimize`), chosen per project:

- speed: the plan carries widened CONV_2D and FULLY_CONNECTED filters where every board has room for them, and each
  operator's short requantization blocks (quick blocks): the fewest instructions.
- size: neither; the device widens filters and derives the short forms as it runs (same results,
  more instructions), so the image is the model, its requantization arrays and the code.

Kept apart from lowering.py so the CLI's argument parser reads the choices without importing numpy.
"""

from __future__ import annotations

from microforge.errors import MicroforgeError

OPTIMIZE = ("speed", "size")


def check_optimize(optimize: str) -> str:
    """optimize itself, or a clear error for a value that is not one of OPTIMIZE."""
    if optimize not in OPTIMIZE:
        raise MicroforgeError(f"unknown optimize choice {optimize!r}",
                              "use speed (fewest instructions) or size (smallest flash)")
    return optimize
