"""The whole path, as a user takes it: `microforge new`, then the generated project's own
`pytest`, which builds `host` and `qemu-m4` with PlatformIO, runs the firmware and checks every
output bit-exact against TFLM's interpreter on 100 seeded random inputs per env."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from microforge.cli import main as cli_main
from support import EXAMPLES, ROOT, SHARED_MODELS, load_file

COUNT = 100
MODELS = [
    EXAMPLES / "sine_int8.tflite",
    EXAMPLES / "sine_float.tflite",
    EXAMPLES / "sine_int8_float_io.tflite",
    *(pytest.param(SHARED_MODELS / rel, marks=pytest.mark.shared_models) for rel in (
        "tflm/hello_world/hello_world_int8.tflite",
        "tflm/hello_world/hello_world_float.tflite",
        "mlperf_tiny/ad/ad01_int8.tflite",
    )),
]
ENVS = ["host", "qemu-m4"]

pytestmark = [
    pytest.mark.qemu,
]


def _check_image(elf: Path) -> None:
    """The linked Cortex-M image: no heap, exception or RTTI symbols (the platform's own check)."""
    imagecheck = load_file("imagecheck", ROOT / "boards" / "platform" / "builder" / "imagecheck.py")
    forbidden_symbols, symbols = imagecheck.forbidden_symbols, imagecheck.symbols

    names = symbols(str(elf))
    assert "_ZN2mf11Interpreter6invokeEv" in names  # the check reads the real image
    assert forbidden_symbols(str(elf)) == []


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.stem)
def test_generated_project_is_bit_exact_on_host_and_qemu(model: Path, tmp_path: Path) -> None:
    if not model.is_file():
        pytest.skip(f"{model} not present (../shared is optional)")
    project = tmp_path / model.stem
    args = ["new", "--model", str(model), "--output", str(project), "--board", "qemu-m4", "--board", "host",
            "--board", "nano33ble"]
    assert cli_main(args) == 0
    junit = tmp_path / "junit.xml"
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", f"--mf-count={COUNT}", "--mf-seed=7",
         f"--junitxml={junit}", "-k", "bit_exact"],
        cwd=project, env=dict(os.environ), capture_output=True, text=True, timeout=900,
    )
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    for env in ENVS:
        case = cases[f"test_bit_exact[{env}]"]
        assert case.find("skipped") is None and case.find("failure") is None, ET.tostring(case)
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props["inputs"] == str(COUNT)
    _check_image(project / ".pio" / "build" / "qemu-m4" / "firmware.elf")
    # the real board env is generated but not runnable here: skipped with a reason, never built
    nano = cases["test_bit_exact[nano33ble]"]
    assert nano.find("skipped") is not None
    assert not (project / ".pio" / "build" / "nano33ble").exists()
