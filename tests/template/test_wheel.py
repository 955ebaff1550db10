"""The wheel carries the template, the runtime, the boards and the examples, and an installed
microforge generates a project outside the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (whl,) = out.glob("microforge-*.whl")
    return whl


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "microforge/cli.py",
        "microforge/_data/cookiecutter-template/cookiecutter.json",
        "microforge/_data/cookiecutter-template/hooks/post_gen_project.py",
        "microforge/_data/runtime/library.json",
        "microforge/_data/runtime/src/microforge/runtime.h",
        "microforge/_data/boards/catalogue/nano33ble.json",
        "microforge/_data/boards/platform/platform.json",
        "microforge/examples/sine_int8.tflite",
    ):
        assert required in names, required
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "microforge = microforge.cli:main" in text
    assert "[pytest11]" in text and "microforge = microforge.harness.plugin" in text


def test_installed_wheel_generates_outside_checkout(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                        str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    model = target / "microforge" / "examples" / "sine_int8.tflite"
    work = tmp_path / "elsewhere"
    work.mkdir()
    script = (
        "import json, sys\n"
        "import microforge.resources as r\n"
        "from microforge.cli import main\n"
        "print(json.dumps([str(r.template_dir()), str(r.runtime_dir())]))\n"
        f"sys.exit(main(['new', '--model', {str(model)!r}, '--board', 'qemu-m4', '--board', 'host',"
        " '--output', 'proj']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    r = subprocess.run([sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    template, runtime = json.loads(r.stdout.splitlines()[0])
    assert template.startswith(str(target)) and runtime.startswith(str(target))
    assert not template.startswith(str(ROOT))
    proj = work / "proj"
    for rel in ("platformio.ini", "src/main.cpp", "src/model/model_data.h", "lib/microforge-runtime/library.json",
                "platform/microforge/builder/main.py", "tests/test_device.py", ".cookiecutter.json"):
        assert (proj / rel).is_file(), rel
