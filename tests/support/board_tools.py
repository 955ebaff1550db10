"""The board-catalogue tests' shared helpers: the catalogue, the compile flags per board, and
`pio project config` on a project (tests/boards; its conftest.py holds the fixtures)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from microforge.boards import Board, all_boards
from microforge.project.pio_env import default_core_dir, pio_environ, seed_core_dir

from support import EXAMPLES

MODEL = EXAMPLES / "sine_int8_float_io.tflite"
BOARDS = all_boards()
DEVICE_BOARDS = [b for b in BOARDS.values() if b.kind != "host"]
# the same warnings bar the runtime is held to everywhere
COMMON_FLAGS = ["-std=gnu++17", "-Os", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra", "-Werror",
                "-ffunction-sections", "-fdata-sections"]


def is_arm(board: Board) -> bool:
    return board.cpu.startswith("cortex-m")


def host_ilp32_flags() -> list[str]:
    """`-m32` when the host g++ can build 32-bit objects with the C headers the runtime includes
    (needs Debian's g++-multilib), else nothing (an LP64 build, still a portability check)."""
    probe = "#include <stdint.h>\n#include <string.h>\n#include <math.h>\nint x;\n"
    r = subprocess.run(["g++", "-m32", "-x", "c++", "-c", "-", "-o", "/dev/null"], input=probe,
                       capture_output=True, text=True)
    return ["-m32"] if r.returncode == 0 else []


def compiler_for(board: Board) -> tuple[str, list[str]]:
    """The compiler and machine flags that stand for `board` offline."""
    if is_arm(board):
        return "arm-none-eabi-g++", list(board.cflags)
    if board.cpu.startswith("xtensa"):
        return "g++", host_ilp32_flags()  # Xtensa-only flags (-mlongcalls) mean nothing to g++
    raise AssertionError(f"no offline compiler for board {board.id} (cpu {board.cpu})")


def require(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.skip(f"{tool} not installed (bash tools/bootstrap)")


def pio_config(project: Path) -> dict[str, dict]:
    """`pio project config --json-output` of a project, as {section: {option: value}}."""
    core = default_core_dir()
    seed_core_dir(core)
    pio = Path(sys.executable).with_name("pio")
    r = subprocess.run([str(pio), "project", "config", "--json-output"], cwd=project, env=pio_environ(core),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return {name: dict(opts) for name, opts in json.loads(r.stdout)}


def option_text(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
