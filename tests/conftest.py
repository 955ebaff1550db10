"""Fixtures for every test folder; plain helpers live in support.py."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import EXAMPLES


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
