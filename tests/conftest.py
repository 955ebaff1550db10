"""Fixtures for every test folder and the one skip rule of each marker; plain helpers live in the
support package (tests/support/).

Markers (registered in pyproject.toml):
- ``qemu``: needs arm-none-eabi-g++ and qemu-system-arm; skipped without them;
- ``shared_models``: needs ../shared/models; skipped where it is absent (../shared is optional);
- ``slow``: left out of the default run (skipped); run with ``-m slow`` or MICROFORGE_SLOW=1.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import EXAMPLES, HAVE_QEMU, SHARED_MODELS


def _slow_asked(config: pytest.Config) -> bool:
    """`-m` names `slow` (not as `not slow`), or MICROFORGE_SLOW=1."""
    expr = config.getoption("markexpr", "") or ""
    return os.environ.get("MICROFORGE_SLOW") == "1" or re.search(r"(?<!not )\bslow\b", expr) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rules = {
        "qemu": (not HAVE_QEMU, "needs gcc-arm-none-eabi and qemu-system-arm (bash tools/bootstrap)"),
        "shared_models": (not SHARED_MODELS.is_dir(), f"{SHARED_MODELS} not present (../shared is optional)"),
        "slow": (not _slow_asked(config), "slow: run with -m slow or MICROFORGE_SLOW=1"),
    }
    for item in items:
        for marker, (skip, reason) in rules.items():
            if skip and item.get_closest_marker(marker) is not None:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True, scope="session")
def _temporary_files_in_pytest_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Temporary files of the tests go under pytest's own folder: plain cookiecutter runs (the
    template tests) leave a copy of the hook in the temporary folder each time."""
    previous = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("tempfile"))
    yield
    tempfile.tempdir = previous


@pytest.fixture
def sine_int8() -> Path:
    return EXAMPLES / "sine_int8.tflite"


@pytest.fixture
def sine_float_io() -> Path:
    return EXAMPLES / "sine_int8_float_io.tflite"
