"""Shared helpers of the runtime tests: sources, the driver build, running both sides."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from microforge.model.ops import KERNELS

from support import SHARED, shared_model  # noqa: F401  (the runtime tests import them from here too)

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "tests" / "runtime"  # the runtime tests and their C++ drivers
RUNTIME_SRC = ROOT / "runtime" / "src"
FLAGS = ["-std=c++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra", "-Werror"]
M4_FLAGS = [
    "-Os",
    "-mcpu=cortex-m4",
    "-mthumb",
    "-mfpu=fpv4-sp-d16",
    "-mfloat-abi=hard",
    "-ffunction-sections",
    "-fdata-sections",
]


def runtime_sources() -> list[Path]:
    mf = RUNTIME_SRC / "microforge"
    return sorted(mf.rglob("*.cpp"))  # kernels/ and its sub-folders too


def build_driver(compiler: str, out_dir: Path, defines: tuple[str, ...] = ()) -> Path:
    """The ASan/UBSan driver; defines such as MF_FAST_KERNELS=1 select other kernel paths."""
    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} not installed")
    headers = dict.fromkeys(k.header for k in KERNELS.values())  # the registry's, in its order
    (out_dir / "mf_kernel_headers.inc").write_text("".join(f'#include "{h}"\n' for h in headers))
    suffix = "".join(f"_{d.replace('=', '')}" for d in defines)
    exe = out_dir / f"run_model_{compiler.replace('+', 'x')}{suffix}"
    cmd = [
        compiler,
        *FLAGS,
        *(f"-D{d}" for d in defines),
        "-g",
        "-O1",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        f"-I{RUNTIME_SRC}",
        f"-I{out_dir}",
        str(HERE / "run_model.cpp"),
        *map(str, runtime_sources()),
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True)
    return exe


def run(driver: Path, model: Path, data: bytes = b"", *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(driver), str(model), *args], input=data, capture_output=True, timeout=300)


def ours(driver: Path, model: Path, inputs: list[np.ndarray], *args: str) -> list[str]:
    res = run(driver, model, b"".join(x.tobytes() for x in inputs), *args)
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    return res.stdout.decode().split()


def tflm(model: bytes, inputs: list[np.ndarray]) -> list[str]:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    out = []
    for x in inputs:
        it.set_input(x, 0)
        it.invoke()
        out.append(it.get_output(0).tobytes().hex())
    return out


def random_inputs(model: bytes, n: int, seed: int, lo: float = -8, hi: float = 8):
    from tflite_micro.python.tflite_micro import runtime

    det = runtime.Interpreter.from_bytes(model, arena_size=1 << 20).get_input_details(0)
    rng = np.random.default_rng(seed)
    shape, dtype = tuple(det["shape"]), det["dtype"]
    if dtype == np.int8:
        return [rng.integers(-128, 128, shape, dtype=np.int8) for _ in range(n)]
    return [rng.uniform(lo, hi, shape).astype(np.float32) for _ in range(n)]


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path
