"""Fixtures of the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.rt_common import build_driver


@pytest.fixture(scope="session")
def driver(tmp_path_factory) -> Path:
    return build_driver("g++", tmp_path_factory.mktemp("runtime"))


@pytest.fixture(scope="session")
def fast_driver(tmp_path_factory) -> Path:
    """The driver with the fast int8 kernels (simd.h's portable forms of the DSP instructions)."""
    return build_driver("g++", tmp_path_factory.mktemp("runtime_fast"), ("MF_FAST_KERNELS=1",))
