"""The device test matrix of a project generated for seven boards at once: the four emulated ones
(qemu-m3, no FPU; qemu-m4; qemu-m7 on mps2-an500; qemu-m55 on mps3-an547) are built with PlatformIO
and run bit-exact against TFLM by the project's own pytest; the three real boards are in the matrix,
skipped with a reason, never built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from microforge.cli import main as cli_main
from support import EXAMPLES

BOARDS = ["nano33ble", "pico", "teensy41", "qemu-m3", "qemu-m4", "qemu-m7", "qemu-m55"]
RUN = ["qemu-m3", "qemu-m4", "qemu-m7", "qemu-m55"]
COUNT = 20


@pytest.mark.qemu
@pytest.mark.parametrize("model", ["sine_int8.tflite", "sine_float.tflite"])
def test_seven_board_project_runs_every_emulator_bit_exact(model: str, tmp_path: Path) -> None:
    project = tmp_path / "p"
    args = ["new", "--model", str(EXAMPLES / model), "--output", str(project)]
    for b in BOARDS:
        args += ["--board", b]
    assert cli_main(args) == 0
    ini = (project / "platformio.ini").read_text()
    assert all(f"[env:{b}]" in ini for b in BOARDS)
    junit = tmp_path / "junit.xml"
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", f"--mf-count={COUNT}", "--mf-seed=11",
                        f"--junitxml={junit}", "-k", "bit_exact"],
                       cwd=project, env=dict(os.environ), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    for env in RUN:
        case = cases[f"test_bit_exact[{env}]"]
        assert case.find("skipped") is None and case.find("failure") is None, ET.tostring(case)
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert props["inputs"] == str(COUNT)
        assert (project / ".pio/build" / env / "firmware.elf").is_file()
    # qemu-m3 really is a Cortex-M3 image, soft-float, run on mps2-an385
    run = json.loads((project / ".pio/build/qemu-m3/mf-run.json").read_text())["argv"]
    assert run[run.index("-M") + 1] == "mps2-an385" and run[run.index("-cpu") + 1] == "cortex-m3"
    attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(project / ".pio/build/qemu-m3/firmware.elf")],
                           capture_output=True, text=True).stdout
    assert "Tag_CPU_arch: v7\n" in attrs and "Tag_FP_arch" not in attrs, attrs
    # the M7 image is ARMv7E-M with FPv5 (double precision), run on mps2-an500; the M55 image is
    # ARMv8.1-M with MVE (Helium), run on mps3-an547
    m7_tags = ("Tag_CPU_arch: v7E-M\n", "Tag_FP_arch: FPv5/FP-D16 for ARMv8")
    m55_tags = ("Tag_CPU_arch: v8.1-M.mainline\n", "Tag_MVE_arch: MVE Integer and FP")
    for env, machine, cpu, tags in (("qemu-m7", "mps2-an500", "cortex-m7", m7_tags),
                                    ("qemu-m55", "mps3-an547", "cortex-m55", m55_tags)):
        run = json.loads((project / f".pio/build/{env}/mf-run.json").read_text())["argv"]
        assert run[run.index("-M") + 1] == machine and run[run.index("-cpu") + 1] == cpu
        attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(project / f".pio/build/{env}/firmware.elf")],
                               capture_output=True, text=True).stdout
        assert all(t in attrs for t in tags), attrs
    # the startup leaves CPACR (0xE000ED88) alone without an FPU and enables the FPU elsewhere
    for env, touches_cpacr in (("qemu-m3", False), ("qemu-m4", True), ("qemu-m7", True), ("qemu-m55", True)):
        dis = subprocess.run(["arm-none-eabi-objdump", "-d", str(project / f".pio/build/{env}/firmware.elf")],
                             capture_output=True, text=True).stdout
        # Reset_Handler sets the stack limit, then branches to mf_reset_c (the rest of the startup)
        reset = "\n".join(dis[dis.index(f"<{fn}>:"):].split("\n\n")[0] for fn in ("Reset_Handler", "mf_reset_c"))
        assert ("0xd88" in reset) == touches_cpacr, reset
    for env in set(BOARDS) - set(RUN):
        assert cases[f"test_bit_exact[{env}]"].find("skipped") is not None
        assert not (project / ".pio/build" / env).exists()
