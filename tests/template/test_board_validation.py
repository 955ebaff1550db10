"""Real-board envs are validated without PlatformIO's registry: the generated platformio.ini is
accepted by `pio project config`, and the runtime plus the model cross-compile with the board's
exact CPU flags (Debian's arm-none-eabi-g++)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from microforge.boards import all_boards
from microforge.cli import main as cli_main
from microforge.pio_env import default_core_dir, pio_environ, seed_core_dir

HARDWARE = [b for b in all_boards().values() if b.kind == "hardware"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, request) -> Path:
    out = tmp_path_factory.mktemp("boards") / "p"
    model = Path(request.config.rootpath) / "generator/microforge/examples/sine_int8_float_io.tflite"
    args = ["new", "--model", str(model), "--output", str(out)]
    for b in HARDWARE:
        args += ["--board", b.id]
    assert cli_main(args) == 0
    return out


def test_pio_project_config_accepts_every_env(project: Path) -> None:
    core = default_core_dir()
    seed_core_dir(core)
    pio = Path(sys.executable).with_name("pio")
    r = subprocess.run([str(pio), "project", "config", "--json-output"], cwd=project, env=pio_environ(core),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    sections = {name: dict(opts) for name, opts in json.loads(r.stdout)}
    for b in HARDWARE:
        env = sections[f"env:{b.id}"]
        for key, value in b.platformio.items():
            got = env[key]
            assert (", ".join(map(str, got)) if isinstance(got, list) else str(got)) == value


@pytest.mark.skipif(shutil.which("arm-none-eabi-g++") is None, reason="arm-none-eabi-g++ not installed")
@pytest.mark.parametrize("board", [b for b in HARDWARE if b.cflags and b.cpu.startswith("cortex")],
                         ids=lambda b: b.id)
def test_runtime_and_model_cross_compile(project: Path, board, tmp_path: Path) -> None:
    runtime = project / "lib/microforge-runtime/src"
    sources = sorted(runtime.rglob("*.cpp")) + sorted((project / "src/model").glob("*.cpp"))
    flags = [*board.cflags, "-std=gnu++17", "-Os", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra",
             "-Werror", "-ffunction-sections", "-fdata-sections", f"-I{runtime}", f"-I{project / 'src'}"]
    objs = []
    for src in sources:
        obj = tmp_path / (src.stem + f"_{len(objs)}.o")
        r = subprocess.run(["arm-none-eabi-g++", *flags, "-c", str(src), "-o", str(obj)],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"{src}:\n{r.stderr}"
        objs.append(obj)
    # the generated model's arena size is a compile-time constant on this target too
    probe = tmp_path / "probe.cpp"
    probe.write_text('#include "model/model.h"\n#include "model/model_data.h"\n'
                     "static_assert(model::kArenaSize > model::kActivationBytes);\n"
                     "static_assert(__alignof__(model::kData) >= 16);\n")
    r = subprocess.run(["arm-none-eabi-g++", *flags, "-c", str(probe), "-o", str(tmp_path / "probe.o")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
