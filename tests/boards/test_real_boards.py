"""The KWS project against a REAL PlatformIO platform and Arduino core (tools/real_boards/check.py).

Needs local copies of the public platform and core repositories, which the project never holds:
set MICROFORGE_REAL_REPOS to the folder of working trees (``<owner>+<name>``, as made by
tools/real_boards/checkout.py); MICROFORGE_REAL_MIRRORS (default /work/.mirror) may name bare
mirrors to export missing trees from. Skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "tools" / "real_boards" / "check.py"


def _repos() -> Path:
    value = os.environ.get("MICROFORGE_REAL_REPOS", "")
    if not value or not Path(value).is_dir():
        pytest.skip("MICROFORGE_REAL_REPOS does not point at a folder of platform/core repositories "
                    "(see tools/real_boards/checkout.py)")
    return Path(value)


def _load_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("real_boards_check", CHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_nano33ble_compiles_our_sources_on_the_real_mbed_core(tmp_path: Path) -> None:
    repos = _repos()
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed (bash tools/bootstrap)")
    check = _load_check()
    if not check.KWS_MODEL.is_file():
        pytest.skip(f"KWS model not found at {check.KWS_MODEL}")
    mirrors = Path(os.environ.get("MICROFORGE_REAL_MIRRORS", "/work/.mirror"))
    out = tmp_path / "real-check"
    try:
        rc = check.main(["--repos", str(repos), "--mirrors", str(mirrors), "--out", str(out),
                         "--board", "nano33ble", "--no-baseline"])
    except FileNotFoundError as exc:  # a repository the recipe needs is neither in repos nor mirrored
        pytest.skip(str(exc))
    assert rc == 0
    report = json.loads((out / "logs" / "nano33ble.json").read_text(encoding="utf-8"))
    ours = report["ours"]
    assert ours["compiled"] > 0, report["pio_run"]
    assert ours["failed"] == 0, ours["first_errors"]
    assert report["framework"]["failed"] == 0, report["framework"]["first_errors"]
    # our C++ standard reaches our sources only; the framework keeps its own
    framework_std = set(report["framework"]["flags"].get("c++", {}).get("effective", {}).get("-std", []))
    assert "gnu++17" not in framework_std, framework_std
    assert (out / "summary.md").is_file()
