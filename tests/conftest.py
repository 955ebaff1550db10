"""Fixtures for every test folder; plain helpers live in support.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import EXAMPLES


@pytest.fixture
def sine_int8() -> Path:
    return EXAMPLES / "sine_int8.tflite"


@pytest.fixture
def sine_float_io() -> Path:
    return EXAMPLES / "sine_int8_float_io.tflite"
