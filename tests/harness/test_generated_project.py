"""End to end: generate a project, run *its* device tests through the plugin (host, QEMU)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from microforge.scaffold import generate

from .test_project import _pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "generator" / "microforge" / "examples"


@pytest.mark.skipif(shutil.which("g++") is None, reason="no host C++ compiler")
@pytest.mark.parametrize("model", ["sine_int8.tflite", "sine_int8_float_io.tflite"])
def test_generated_project_passes_its_device_tests(tmp_path: Path, model: str) -> None:
    boards = ["host"]
    if shutil.which("arm-none-eabi-g++") and shutil.which("qemu-system-arm"):
        boards.append("qemu-m4")
    project = generate(EXAMPLES / model, boards, tmp_path / "proj")
    r = _pytest(project, "-q", "-rs", "--mf-count=25", "--junitxml=" + str(tmp_path / "j.xml"))
    assert r.returncode == 0, r.stdout[-4000:]
    assert f"{4 * len(boards)} passed" in r.stdout, r.stdout[-2000:]
    junit = (tmp_path / "j.xml").read_text()
    assert 'name="latency_us_median"' in junit
