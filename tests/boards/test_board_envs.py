"""Every catalogue entry, validated without PlatformIO's registry: a project generated for it has a
`platformio.ini` that `pio project config` accepts with the entry's options, and the runtime, the
generated model and the board's port compile with that CPU's exact flags (see conftest.py for
the compilers; the ESP32-S3 is a host-g++ portability check)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from microforge.boards import Board
from support.board_tools import (
    BOARDS,
    COMMON_FLAGS,
    DEVICE_BOARDS,
    compiler_for,
    is_arm,
    option_text,
    pio_config,
    require,
)

ARDUINO_BOARDS = [b for b in BOARDS.values() if b.port == "ARDUINO"]

# The Arduino API the port may use: the subset common to ArduinoCore-mbed, nRF5, Teensyduino,
# STM32duino and arduino-esp32. A port that reaches for anything else fails to compile here.
ARDUINO_STUB = """#pragma once
#include <stddef.h>
#include <stdint.h>
unsigned long micros(void);
class StubSerial {
 public:
  void begin(unsigned long baud);
  int available();
  int read();
  size_t write(const uint8_t* data, size_t len);
  void flush();
  explicit operator bool();
};
extern StubSerial Serial;
"""


@pytest.mark.parametrize("board", DEVICE_BOARDS, ids=lambda b: b.id)
def test_pio_project_config_accepts_the_env(board: Board, board_project) -> None:
    project = board_project(board)
    sections = pio_config(project)
    assert [s for s in sections if s.startswith("env:")] == [f"env:{board.id}"]
    env = sections[f"env:{board.id}"]
    for key, value in board.platformio.items():
        if key == "platform" and value == "microforge":
            assert option_text(env[key]) == f"symlink://{project}/platform/microforge"  # ${PROJECT_DIR} expanded
        else:
            assert option_text(env[key]) == value, key
    assert f"-D MF_PORT_{board.port}=1" in option_text(env["build_flags"])
    assert env["custom_microforge_kind"] == board.kind
    if board.usb:
        assert env["custom_microforge_usb"].split() == list(board.usb_ids)
    if board.qemu:
        assert env["custom_microforge_qemu_machine"] == board.qemu["machine"]


@pytest.mark.parametrize("board", DEVICE_BOARDS, ids=lambda b: b.id)
def test_runtime_and_model_compile_with_the_cpu_flags(board: Board, board_project, cross_compile,
                                                      tmp_path: Path) -> None:
    compiler, machine = compiler_for(board)
    require(compiler)
    project = board_project(board)
    objs = cross_compile(board, project)
    assert objs and all(o.stat().st_size > 0 for o in objs)
    # the generated arena size is a compile-time constant on this target too
    probe = tmp_path / "probe.cpp"
    probe.write_text('#include "model/model.h"\n#include "model/model_data.h"\n'
                     "static_assert(model::kArenaSize > model::kActivationBytes);\n"
                     "static_assert(__alignof__(model::kData) >= 16);\n")
    runtime = project / "lib/microforge-runtime/src"
    r = subprocess.run([compiler, *machine, *COMMON_FLAGS, f"-I{runtime}", f"-I{project / 'src'}", "-c", str(probe),
                        "-o", str(tmp_path / "probe.o")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    if is_arm(board):
        # the objects really are for this CPU: the build attributes name its architecture
        attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(objs[0])], capture_output=True, text=True).stdout
        arch = {"cortex-m0plus": "v6S-M", "cortex-m3": "v7", "cortex-m4": "v7E-M", "cortex-m7": "v7E-M",
                "cortex-m55": "v8.1-M.mainline"}[board.cpu]
        assert f"Tag_CPU_arch: {arch}" in attrs, attrs
        assert ("Tag_ABI_VFP_args: VFP registers" in attrs) == ("-mfloat-abi=hard" in board.cflags), attrs


@pytest.mark.parametrize("board", ARDUINO_BOARDS, ids=lambda b: b.id)
def test_arduino_port_compiles_for_the_board(board: Board, board_project, tmp_path: Path) -> None:
    compiler, machine = compiler_for(board)
    require(compiler)
    project = board_project(board)
    stub = tmp_path / "stub"
    stub.mkdir()
    (stub / "Arduino.h").write_text(ARDUINO_STUB)
    runtime = project / "lib/microforge-runtime/src"
    port = project / "lib/microforge-port-arduino/src/microforge_port_arduino.cpp"
    # the port library builds with the core's own standard: the oldest of the catalogue's cores is C++11
    # (nRF5, Adafruit nRF52), so it must be C++11
    common = [("-std=gnu++11" if f == "-std=gnu++17" else f) for f in COMMON_FLAGS]
    flags = [*machine, *common, "-DMF_PORT_ARDUINO=1", f"-I{stub}", f"-I{runtime}"]
    obj = tmp_path / "port.o"
    if not is_arm(board):
        # Xtensa: the CCOUNT branch, checked for syntax by the host compiler (it cannot assemble it)
        r = subprocess.run([compiler, *flags, "-D__XTENSA__", "-fsyntax-only", str(port)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        text = subprocess.run([compiler, *flags, "-D__XTENSA__", "-E", str(port)], capture_output=True,
                              text=True).stdout
        assert "rsr %0, ccount" in text and "kDwtCyccnt" not in text
        assert board.cycle_counter == "cycles"
        return
    r = subprocess.run([compiler, *flags, "-c", str(port), "-o", str(obj)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    syms = subprocess.run(["arm-none-eabi-nm", "-C", str(obj)], capture_output=True, text=True).stdout
    defined = {line.split(maxsplit=2)[2].removesuffix("()") for line in syms.splitlines() if " T " in line}
    assert {"setup", "loop"} <= defined, syms  # the Arduino core's main() calls these
    undefined = {line.split()[-1].removesuffix("()") for line in syms.splitlines() if " U " in line}
    assert {"mf_app_setup", "mf_app_loop"} <= undefined, syms
    # the cycle counter the preprocessor picks for this CPU: DWT CYCCNT on ARMv7-M (M3/M4/M7), none
    # on ARMv6-M (M0+), which has no DWT cycle counter
    text = subprocess.run([compiler, *flags, "-E", str(port)], capture_output=True, text=True).stdout
    assert ("kDwtCyccnt" in text) == (board.cycle_counter == "cycles"), board.cpu
    assert "ccount" not in text
