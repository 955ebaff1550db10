"""The local PlatformIO platform (boards/platform), built offline in a throwaway project.

The project (tests/build_platform/project) is copied to a tmp dir together with the platform
(as platform/microforge, referenced by symlink://${PROJECT_DIR}/platform/microforge) and the
runtime (as lib/microforge-runtime), exactly as a generated project vendors them. PlatformIO
runs with a private, seeded core dir, so nothing touches ~/.platformio or the network.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from microforge.project import pio_env

ROOT = Path(__file__).resolve().parents[2]
PLATFORM = ROOT / "boards" / "platform"
RUNTIME = ROOT / "runtime"
PROJECT = Path(__file__).resolve().parent / "project"

PAYLOAD = bytes(range(256)) * 2  # every byte value, twice: the link must be 8-bit clean

FORBIDDEN = ("malloc", "free", "_Znwj", "_Znaj", "__cxa_throw", "__cxa_allocate_exception")


def _missing(*tools: str) -> list[str]:
    return [t for t in tools if shutil.which(t) is None]


def _need(*tools: str) -> None:
    missing = _missing(*tools)
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")


class Project:
    def __init__(self, path: Path, core_dir: Path) -> None:
        self.path = path
        self.env = pio_env.pio_environ(core_dir)

    def pio(
        self, *args: str, stdin: bytes | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "platformio", *args],
            cwd=self.path,
            env=self.env,
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=timeout,
        )

    def build(self, env_name: str) -> subprocess.CompletedProcess:
        result = self.pio("run", "-e", env_name)
        assert result.returncode == 0, _text(result)
        return result

    def run_argv(self, env_name: str) -> list[str]:
        data = json.loads((self.path / ".pio" / "build" / env_name / "mf-run.json").read_text())
        return data["argv"]

    def elf(self, env_name: str) -> Path:
        return self.path / ".pio" / "build" / env_name / "firmware.elf"


def _text(result: subprocess.CompletedProcess) -> str:
    return (result.stdout or b"").decode(errors="replace") + (result.stderr or b"").decode(errors="replace")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    base = tmp_path_factory.mktemp("mfplatform")
    core_dir = base / "core"
    pio_env.seed_core_dir(core_dir)
    path = base / "project"
    shutil.copytree(PROJECT, path, ignore=shutil.ignore_patterns(".pio"))
    shutil.copytree(PLATFORM, path / "platform" / "microforge", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(RUNTIME, path / "lib" / "microforge-runtime")
    return Project(path, core_dir)


def _echo_input(code: int) -> bytes:
    return bytes([code]) + len(PAYLOAD).to_bytes(2, "little") + PAYLOAD


def _check_echo(stdout: bytes, kind: str) -> None:
    head, sep, rest = stdout.partition(b"\n")
    assert sep, stdout[:200]
    assert head.split() == [b"mf-echo-ready", kind.encode(), b"42", b"63"], head
    assert rest[: len(PAYLOAD)] == PAYLOAD
    tail = rest[len(PAYLOAD) :].decode()
    fields = tail.split()
    assert fields[:3] == ["mf-echo-done", str(len(PAYLOAD)), str(sum(PAYLOAD))], tail


def test_seed_core_dir_is_idempotent(tmp_path: Path) -> None:
    pio_env.seed_core_dir(tmp_path)
    scons = tmp_path / "packages" / "tool-scons"
    launcher = (scons / "scons.py").stat().st_mtime_ns
    pio_env.seed_core_dir(tmp_path)
    assert (scons / "scons.py").stat().st_mtime_ns == launcher  # left alone
    piopm = json.loads((scons / ".piopm").read_text())
    assert piopm["version"] == "4.41101.0" and piopm["spec"]["owner"] == "platformio"
    assert (scons / "SCons" / "Script" / "Main.py").is_file()
    state = json.loads((tmp_path / "appstate.json").read_text())
    assert state["last_version"] == pio_env.installed_platformio_version()
    assert state["settings"]["enable_telemetry"] is False
    env = pio_env.pio_environ(tmp_path)
    assert env["PLATFORMIO_CORE_DIR"] == str(tmp_path.resolve())
    assert env["PLATFORMIO_DISABLE_UPGRADE_CHECK"] == "true"


def test_check_tools_names_debian_packages() -> None:
    for missing in pio_env.check_tools():
        assert missing.debian_package in {
            "gcc",
            "g++",
            "gcc-arm-none-eabi",
            "libnewlib-arm-none-eabi",
            "libstdc++-arm-none-eabi-newlib",
            "qemu-system-arm",
        }


def test_host_echo_round_trip(project: Project) -> None:
    _need("gcc", "g++")
    project.build("host")  # src/main.cpp has #error unless the board defined MF_PORT_HOST
    argv = project.run_argv("host")
    result = subprocess.run(argv, input=_echo_input(3), capture_output=True, timeout=30)
    assert result.returncode == 3, _text(result)
    _check_echo(result.stdout, "none")
    # stdin EOF before the payload is complete: read_byte() returns -2, the app exits 99.
    result = subprocess.run(argv, input=b"\x03\x10\x00abc", capture_output=True, timeout=30)
    assert result.returncode == 99
    assert result.stdout.endswith(b"abc")


def test_host_exec_target(project: Project) -> None:
    _need("gcc", "g++")
    result = project.pio("run", "-e", "host", "-t", "exec", stdin=b"\x00\x03\x00xyz")
    assert result.returncode == 0, _text(result)
    assert "mf-echo-done 3 363" in _text(result)


@pytest.mark.parametrize(
    "env_name, machine",
    [("qemu-m4", "mps2-an386"), ("qemu-m7", "mps2-an500"), ("qemu-m55", "mps3-an547")],
)
def test_qemu_echo_round_trip(project: Project, env_name: str, machine: str) -> None:
    _need("arm-none-eabi-gcc", "arm-none-eabi-nm", "qemu-system-arm")
    build = project.build(env_name)  # #error unless the board defined MF_PORT_MPS2
    assert "Image check: no heap, exception or RTTI symbols" in _text(build)
    nm = subprocess.run(
        ["arm-none-eabi-nm", str(project.elf(env_name))], capture_output=True, text=True, check=True
    ).stdout
    names = {line.split()[-1] for line in nm.splitlines() if line.split()}
    assert not names & set(FORBIDDEN)
    assert {"Reset_Handler", "main", "_Z12mf_app_setupv", "_Z11mf_app_loopv"} <= names

    argv = project.run_argv(env_name)
    assert argv[0] == "qemu-system-arm" and "-icount" in argv and machine in argv
    result = subprocess.run(argv, input=_echo_input(7), capture_output=True, timeout=60)
    assert result.returncode == 7, _text(result)
    _check_echo(result.stdout, "instructions")


def test_qemu_exec_and_size_targets(project: Project) -> None:
    _need("arm-none-eabi-gcc", "arm-none-eabi-size", "qemu-system-arm")
    result = project.pio("run", "-e", "qemu-m4", "-t", "exec", stdin=b"\x00\x02\x00ok")
    assert result.returncode == 0, _text(result)
    assert "mf-echo-done 2 218" in _text(result)
    size = project.pio("run", "-e", "qemu-m4", "-t", "size")
    assert size.returncode == 0, _text(size)
    assert "firmware.elf" in _text(size) and "text" in _text(size)
    check = project.pio("run", "-e", "qemu-m4", "-t", "checkimage")
    assert check.returncode == 0, _text(check)


def test_image_check_rejects_malloc(project: Project) -> None:
    _need("arm-none-eabi-gcc", "arm-none-eabi-nm")
    result = project.pio("run", "-e", "qemu-m4-malloc")
    text = _text(result)
    assert result.returncode != 0, text
    assert "image check failed" in text and "malloc" in text
    # The rejected image is removed, so a rebuild checks again instead of skipping.
    assert not project.elf("qemu-m4-malloc").exists()
    again = project.pio("run", "-e", "qemu-m4-malloc")
    assert again.returncode != 0 and "image check failed" in _text(again)


@pytest.mark.parametrize("env_name", ["qemu-m4-fault", "qemu-m55-fault"])
def test_qemu_fault_exits_with_status(project: Project, env_name: str) -> None:
    _need("arm-none-eabi-gcc", "qemu-system-arm")
    project.build(env_name)
    result = subprocess.run(project.run_argv(env_name), input=b"", capture_output=True, timeout=60)
    # A UsageFault (exception 6: the startup enables it, so it no longer escalates to HardFault):
    # the startup's default handler exits with 0x80 | 6.
    assert result.returncode == 134, _text(result)
