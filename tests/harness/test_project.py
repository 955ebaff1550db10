"""The plugin's view of a project: envs, skip reasons, model file, and the plugin's collection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from microforge.device.envs import EnvSpec, model_path, read_envs

INI = """\
[platformio]
default_envs = host

[env]
build_flags = -Wall
custom_microforge_kind = host

[env:host]
platform = symlink://${PROJECT_DIR}/platform/microforge

[qemu_base]
custom_microforge_kind = emulator
custom_microforge_qemu_machine = mps2-an386

[env:qemu-m4]
extends = qemu_base
custom_microforge_qemu_cpu = cortex-m4

[env:nano33ble]
custom_microforge_kind = hardware

[env:broken-emu]
custom_microforge_kind = emulator

[env:plain]
custom_microforge_kind =
"""


def test_read_envs_merges_env_and_extends(tmp_path: Path) -> None:
    (tmp_path / "platformio.ini").write_text(INI)
    envs = {e.name: e for e in read_envs(tmp_path)}
    assert list(envs) == ["host", "qemu-m4", "nano33ble", "broken-emu", "plain"]
    assert envs["host"].kind == "host"  # inherited from [env]
    assert envs["qemu-m4"] == EnvSpec("qemu-m4", "emulator", "mps2-an386", "cortex-m4")
    assert envs["host"].skip_reason(None) is None
    assert "--port" in (envs["nano33ble"].skip_reason(None) or "")
    assert envs["nano33ble"].skip_reason("/dev/ttyACM0") is None
    assert "qemu_machine" in (envs["broken-emu"].skip_reason(None) or "")
    assert "custom_microforge_kind" in (envs["plain"].skip_reason(None) or "")


def test_read_envs_without_ini(tmp_path: Path) -> None:
    assert read_envs(tmp_path) == []


def test_model_path(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "a.tflite").write_bytes(b"")
    assert model_path(tmp_path) == tmp_path / "model" / "a.tflite"
    (tmp_path / "model" / "b.tflite").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="2 .tflite"):
        model_path(tmp_path)
    (tmp_path / ".cookiecutter.json").write_text(json.dumps({"model_file": "b.tflite"}))
    assert model_path(tmp_path) == tmp_path / "model" / "b.tflite"


def _pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(root / "generator"), env.get("PYTHONPATH", "")])
    registered = any(ep.name == "microforge" for ep in entry_points(group="pytest11"))
    plugin = [] if registered else ["-p", "microforge.harness.plugin"]
    return subprocess.run([sys.executable, "-m", "pytest", *plugin, *args],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_plugin_parametrizes_and_skips_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "platformio.ini").write_text(INI)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_envs.py").write_text("def test_env(mf_env):\n    assert mf_env.name\n")
    r = _pytest(tmp_path, "-rs", "-v", "-p", "no:cacheprovider")
    out = r.stdout
    assert "test_env[host] PASSED" in out, out
    assert "test_env[qemu-m4]" in out and "test_env[nano33ble] SKIPPED" in out, out
    assert "pass --port=nano33ble=<serial port>" in out and "no custom_microforge_kind" in out, out


def test_plugin_skips_cleanly_outside_a_project(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_envs.py").write_text("def test_env(mf_env):\n    pass\n")
    r = _pytest(tmp_path, "-rs", "-p", "no:cacheprovider")
    assert r.returncode == 0 and "no [env:...] sections" in r.stdout, r.stdout
