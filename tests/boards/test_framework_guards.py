"""Guards for what broke against the real Arduino cores (issue 16, ../shared/docs/real-cores.md),
reproduced without any of their code:

- PlatformIO applies an env's build_flags / build_unflags to the framework's own sources, so a
  C++ standard set there reached ArduinoCore-mbed, whose abs() macro breaks C++17's <chrono>.
  `fake_arduino/` is a stand-in platform whose core sets that trap (and min/max macros); a
  generated nano33ble env, pointed at it, is built by the real `pio run`.
- GCC 7.2.1 (PlatformIO's toolchain for the mbed core) has no SIMD32 intrinsics in arm_acle.h:
  the runtime is compiled with an arm_acle.h that declares none shadowing the compiler's.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from microforge.boards import Board
from microforge.cli import main as cli_main
from microforge.project.pio_env import pio_environ, seed_core_dir
from support import EXAMPLES
from support.board_tools import BOARDS, COMMON_FLAGS, DEVICE_BOARDS, compiler_for, require

FAKE_PLATFORM = Path(__file__).resolve().parent / "fake_arduino"
MODEL = EXAMPLES / "sine_int8_float_io.tflite"


def _ini_sections(text: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        elif "=" in line and not line.startswith(";"):
            key, value = line.split("=", 1)
            current[key.strip()] = value.strip()
    return sections


def test_generated_ini_never_sets_or_unflags_the_framework_standard(tmp_path: Path) -> None:
    out = tmp_path / "p"
    ids = [b.id for b in BOARDS.values()]
    assert cli_main(["new", "--model", str(MODEL), "--output", str(out), *[a for i in ids for a in ("--board", i)],
                     "--force"]) == 0
    sections = _ini_sections((out / "platformio.ini").read_text())
    for name, options in sections.items():
        for key in ("build_flags", "build_unflags"):
            assert "-std=" not in options.get(key, ""), f"[{name}] {key} reaches the framework's sources"
            assert "-W" not in options.get(key, ""), f"[{name}] {key}: our warnings would reach the framework"
    assert "-std=gnu++17" in sections["env"]["build_src_flags"]
    manifest = json.loads((out / "lib/microforge-runtime/library.json").read_text())
    assert "-std=gnu++17" in manifest["build"]["flags"]
    for board in BOARDS.values():
        env = sections[f"env:{board.id}"]
        assert ("microforge-port-arduino" in env.get("lib_deps", "")) == (board.port == "ARDUINO"), board.id
    port_lib = json.loads((out / "lib/microforge-port-arduino/library.json").read_text())
    assert "flags" not in port_lib.get("build", {}), "the Arduino port builds with the core's own flags"


def _nano_project_on_fake_core(tmp_path: Path, old_standard: bool = False) -> Path:
    """A generated nano33ble project whose env builds on the stand-in platform, all else as generated."""
    out = tmp_path / "p"
    assert cli_main(["new", "--model", str(MODEL), "--output", str(out), "--board", "nano33ble"]) == 0
    ini = out / "platformio.ini"
    text = ini.read_text()
    text = text.replace("platform = nordicnrf52", f"platform = symlink://{FAKE_PLATFORM}")
    text = text.replace("board = nano33ble\n", "board = fake_arduino\n")
    text = re.sub(r"^upload_protocol = .*\n", "", text, flags=re.M)
    if old_standard:  # as the generator did before: in [env], so it reaches the framework too
        text = re.sub(r"^build_flags =", "build_unflags = -std=gnu++11 -std=gnu++14\nbuild_flags = -std=gnu++17",
                      text, count=1, flags=re.M)
    ini.write_text(text)
    return out


def _pio_run(project: Path, core: Path) -> subprocess.CompletedProcess[str]:
    seed_core_dir(core)
    pio = Path(sys.executable).with_name("pio")
    return subprocess.run([str(pio), "run", "-v", "-e", "nano33ble"], cwd=project, env=pio_environ(core),
                          capture_output=True, text=True, timeout=600)


def _compile_lines(log: str) -> dict[str, str]:
    """Object path -> the compile command that made it."""
    lines = {}
    for line in log.splitlines():
        m = re.match(r"^g\+\+ -o (\S+\.o) -c ", line)
        if m:
            lines[m.group(1)] = line
    return lines


def _last_std(command: str) -> str:
    return re.findall(r"-std=(\S+)", command)[-1]


def test_generated_arduino_env_builds_on_a_core_with_abs_min_max_macros(tmp_path: Path) -> None:
    require("g++")
    project = _nano_project_on_fake_core(tmp_path)
    r = _pio_run(project, tmp_path / "core")
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    compiles = _compile_lines(r.stdout)
    framework = [c for o, c in compiles.items() if "FrameworkArduino" in o]
    runtime = [c for o, c in compiles.items() if "microforge-runtime" in o]
    port = [c for o, c in compiles.items() if "microforge-port-arduino" in o]
    ours = [c for o, c in compiles.items() if "/src/" in o and "FrameworkArduino" not in o]
    assert framework and runtime and port and ours
    assert all(_last_std(c) == "gnu++14" for c in framework + port), "the core's standard for the core and the port"
    assert all(_last_std(c) == "gnu++17" for c in runtime + ours), "C++17 for the runtime and src/"
    assert not any("-Wall" in c for c in framework), "our warnings stay out of the framework"
    assert (project / ".pio/build/nano33ble/program").is_file()


def test_the_stand_in_core_reproduces_the_cxx17_failure(tmp_path: Path) -> None:
    """What the guard above catches: the standard set and unflagged in [env] (the old generated ini)."""
    require("g++")
    project = _nano_project_on_fake_core(tmp_path, old_standard=True)
    r = _pio_run(project, tmp_path / "core")
    assert r.returncode != 0
    assert 'macro "abs" passed 2 arguments' in r.stdout + r.stderr


@pytest.fixture(scope="module")
def acle_without_simd32(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An include folder whose arm_acle.h, like GCC 7.2.1's, declares no SIMD32 intrinsic."""
    folder = tmp_path_factory.mktemp("gcc7-acle")
    (folder / "arm_acle.h").write_text("// stand-in for GCC 7.2.1's arm_acle.h: no __smlad, __sxtb16, __sxtab16,\n"
                                       "// __smlabb, __smlatt\n#pragma once\n#include <stdint.h>\n")
    return folder


DSP_BOARDS = [b for b in DEVICE_BOARDS if b.cpu in ("cortex-m4", "cortex-m7")]


@pytest.mark.parametrize("board", DSP_BOARDS[:1], ids=lambda b: b.id)
def test_runtime_compiles_without_acle_simd32_intrinsics(board: Board, board_project, acle_without_simd32: Path,
                                                         tmp_path: Path) -> None:
    compiler, machine = compiler_for(board)
    require(compiler)
    project = board_project(board)
    runtime = project / "lib/microforge-runtime/src"
    sources = sorted((runtime / "microforge").rglob("*.cpp"))
    flags = [*machine, *COMMON_FLAGS, f"-I{acle_without_simd32}", f"-I{runtime}", "-DMF_FAST_KERNELS=1"]
    failed = []
    for src in sources:
        r = subprocess.run([compiler, *flags, "-c", str(src), "-o", str(tmp_path / f"{src.stem}.o")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            failed.append(f"{src.name}: {r.stderr.strip().splitlines()[0] if r.stderr.strip() else '?'}")
    assert not failed, "\n".join(failed)

