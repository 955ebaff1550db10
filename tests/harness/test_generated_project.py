"""End to end: generate a project, run *its* device tests through the plugin (host, QEMU)."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from microforge.project.scaffold import generate

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
    # test_device.py: 4 tests per env; test_link.py: 3 more on the emulator (skipped on host)
    assert f"{4 * len(boards) + 3 * ('qemu-m4' in boards)} passed" in r.stdout, r.stdout[-2000:]
    junit = (tmp_path / "j.xml").read_text()
    assert 'name="latency_us_median"' in junit


@pytest.mark.skipif(not all(shutil.which(t) for t in ("g++", "arm-none-eabi-g++", "qemu-system-arm")),
                    reason="needs g++, gcc-arm-none-eabi and qemu-system-arm")
def test_generated_project_matrix_runs_green_with_xdist(tmp_path: Path) -> None:
    """`pytest -n 2`: two workers share the matrix (host, qemu-m4; nano33ble skipped, no port)."""
    project = generate(EXAMPLES / "sine_int8.tflite", ["host", "qemu-m4", "nano33ble"], tmp_path / "proj")
    assert (project / ".github" / "workflows" / "device-tests.yml").is_file()
    junit = tmp_path / "j.xml"
    r = _pytest(project, "-n", "2", "-q", "-rs", "--mf-count=10", "--junitxml=" + str(junit))
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    for env in ("host", "qemu-m4"):
        case = cases[f"test_bit_exact[{env}]"]
        assert case.find("skipped") is None and case.find("failure") is None, ET.tostring(case)
    assert cases["test_bit_exact[nano33ble]"].find("skipped") is not None
    assert "11 passed" in r.stdout, r.stdout[-2000:]  # 4 + 4 device tests, 3 serial-path tests
    for name in ("test_serial_path_is_bit_exact", "test_serial_line_noise_is_survived",
                 "test_serial_no_answer_times_out_clearly"):
        assert cases[f"{name}[qemu-m4]"].find("failure") is None
        assert cases[f"{name}[host]"].find("skipped") is not None
