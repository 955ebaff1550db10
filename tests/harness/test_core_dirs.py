"""Which PlatformIO core dir each env builds in: microforge's private, seeded one for host and QEMU
envs; the user's own environment, untouched, for real boards (issue 16, point 7)."""

from __future__ import annotations

import fcntl
import json
import threading
import time
from pathlib import Path

import pytest
from microforge.device import runner as dut
from microforge.project import pio_env as mf_pio_env

INI = """[env:qemu-m4]
platform = symlink://${PROJECT_DIR}/platform/microforge
custom_microforge_kind = emulator
[env:nano33ble]
platform = nordicnrf52
custom_microforge_kind = hardware
"""


def test_real_boards_build_in_the_users_own_core_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "platformio.ini").write_text(INI)
    private = tmp_path / "private-core"
    monkeypatch.setenv("MICROFORGE_PIO_CORE", str(private))
    monkeypatch.setenv("PLATFORMIO_CORE_DIR", str(tmp_path / "users-core"))
    assert dut.is_local_env(tmp_path, "qemu-m4") and not dut.is_local_env(tmp_path, "nano33ble")
    assert dut.pio_env(local=True)["PLATFORMIO_CORE_DIR"] == str(private.resolve())
    assert dut.pio_env(local=False)["PLATFORMIO_CORE_DIR"] == str(tmp_path / "users-core")
    assert not (tmp_path / "users-core").exists()  # nothing seeded or written there


def test_setup_adds_tool_scons_to_the_usual_core_dir_only_when_it_has_none(tmp_path: Path) -> None:
    usual = tmp_path / "usual"
    mf_pio_env.seed_core_dir(usual, quiet=False)
    assert (usual / "packages/tool-scons/scons.py").is_file()
    assert not (usual / "appstate.json").exists(), "the user's settings are theirs"
    mine = usual / "packages/tool-scons/package.json"
    mine.write_text(json.dumps({"name": "tool-scons", "version": "4.40801.0"}))
    mf_pio_env.seed_core_dir(usual, quiet=False)
    assert json.loads(mine.read_text())["version"] == "4.40801.0", "an installed tool-scons is left alone"


def test_a_held_build_lock_says_what_it_waits_for(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lock = tmp_path / "core" / ".microforge-build.lock"
    lock.parent.mkdir()
    holder = open(lock, "w")  # noqa: SIM115
    fcntl.flock(holder, fcntl.LOCK_EX)
    threading.Thread(target=lambda: (time.sleep(0.3), fcntl.flock(holder, fcntl.LOCK_UN)), daemon=True).start()
    with dut.file_lock(lock, "waiting for another microforge build"):
        pass
    holder.close()
    assert "waiting for another microforge build" in capsys.readouterr().err
