"""The tests' support package (on the test path: pyproject's ``pythonpath = ["tests"]``).

Here: paths shared by the tests (the checkout, the bundled models and ../shared, optional) and
the zoo (``support.zoo``). Submodules: ``tflite_build`` (the one flatbuffer writer), ``build_conv``
and ``build_elementwise`` (operator models), ``plan_tools`` and ``rt_common`` (the runtime's
host driver and tflite-micro side by side), ``coverage_graph`` / ``coverage_models`` /
``make_models`` (the bundled and coverage models), ``rel_common`` (reliability checks)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "generator" / "microforge" / "examples"
SHARED = ROOT.parent / "shared"
SHARED_MODELS = SHARED / "models"
# The Cortex-M toolchain and QEMU: tests marked `qemu` are skipped without them (tests/conftest.py).
HAVE_QEMU = shutil.which("arm-none-eabi-g++") is not None and shutil.which("qemu-system-arm") is not None


def shared_model(rel: str) -> Path:
    """A model from ../shared/models, or a clean skip where ../shared is absent."""
    path = SHARED_MODELS / rel
    if not path.is_file():
        pytest.skip(f"{path} not present (../shared is optional)")
    return path


def load_file(name: str, path: Path) -> ModuleType:
    """A module of the checkout that is no package on the test path (bench/anchors.py, the
    PlatformIO builder's scripts), imported from its file as `name`."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
