"""Kernel limits are written once (runtime kernels/limits.h): the kernels use them by name and the
generator reads them (microforge.lower.limits); neither side states the numbers again."""

from __future__ import annotations

import re
from pathlib import Path

from microforge.lower import limits
from microforge.resources import runtime_dir

KERNELS = runtime_dir() / "src" / "microforge" / "kernels"
LOWER = Path(limits.__file__).parent  # microforge/lower


def test_every_limit_is_read() -> None:
    text = (runtime_dir() / "src" / limits.HEADER).read_text()
    declared = re.findall(r"constexpr int32_t (k\w+) =", text)
    assert declared and sorted(declared) == sorted(limits.LIMITS)
    assert all(v > 0 for v in limits.LIMITS.values())


def test_every_limit_is_used_by_name_in_the_kernels() -> None:
    sources = "\n".join(p.read_text() for p in KERNELS.rglob("*") if p.suffix in (".h", ".cpp", ".inc")
                        and p.name != "limits.h")
    for name in limits.LIMITS:
        assert f"limits::{name}" in sources, f"{name} is not used by the kernels"


def test_the_generator_types_no_limit_again() -> None:
    """The modules that mirror the kernels assign no module constant one of the limits' values."""
    values = {str(v) for v in limits.LIMITS.values()}
    for path in (LOWER / name for name in ("build_flags.py", "planned_ops.py", "wide_filters.py")):
        for m in re.finditer(r"^[A-Z_]+ = (\d+)\b", path.read_text(), re.M):
            assert m.group(1) not in values, f"{path.name}: {m.group(0)}"
