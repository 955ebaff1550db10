"""The runtime's own expf (kernels/float_math.{h,cpp}, used by float SOFTMAX and LOGISTIC) returns
exactly what the host glibc's expf returns, checked over all 2^32 inputs (float_math_check.cpp).

glibc's x86-64 expf is not correctly rounded (170,648 inputs are 1 ulp off) and has two ifunc
variants: with FMA + AVX2 (any x86-64 CPU since 2013, where TFLM references are made) and without.
They differ on exactly two inputs; exp_f32 follows the FMA variant there. On a host running the
other variant those two, and only those, differ."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from support.rt_common import FLAGS, HERE, RUNTIME_SRC

# input bits -> (glibc FMA-variant result, plain-double result)
FMA_ONLY = {0x4202422F: (0x56FC9F1C, 0x56FC9F1B), 0xC27C65D9: (0x11FA2993, 0x11FA2992)}


def _host_expf_bits(u: int) -> int:
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    libm.expf.restype = ctypes.c_float
    libm.expf.argtypes = [ctypes.c_float]
    x = struct.unpack("<f", struct.pack("<I", u))[0]
    return struct.unpack("<I", struct.pack("<f", libm.expf(x)))[0]


def _glibc_x86_64() -> bool:
    name, version = platform.libc_ver()
    if platform.machine() != "x86_64" or name != "glibc":
        return False
    return tuple(int(p) for p in version.split(".")[:2]) >= (2, 28)  # the current expf since 2.28


@pytest.fixture(scope="module")
def checker(tmp_path_factory) -> Path:
    if shutil.which("g++") is None:
        pytest.skip("g++ not installed")
    if not _glibc_x86_64():
        pytest.skip("the reference is x86-64 glibc >= 2.28's expf")
    exe = tmp_path_factory.mktemp("float_math") / "float_math_check"
    subprocess.run(["g++", *FLAGS, "-O2", f"-I{RUNTIME_SRC}", str(HERE / "float_math_check.cpp"),
                    str(RUNTIME_SRC / "microforge" / "kernels" / "float_math.cpp"), "-o", str(exe), "-lm"],
                   check=True)
    return exe


def _run(exe: Path, *args: str) -> tuple[int, dict[int, tuple[int, int]]]:
    res = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    lines = res.stdout.split("\n")
    diffs = {int(f[1], 16): (int(f[2], 16), int(f[3], 16)) for f in map(str.split, lines) if f and f[0] == "DIFF"}
    return int(lines[-2].split()[1]), diffs


def test_exp_f32_equals_host_expf_on_all_inputs(checker):
    count, diffs = _run(checker)
    host_has_fma_variant = all(_host_expf_bits(u) == fma for u, (fma, _) in FMA_ONLY.items())
    if host_has_fma_variant:
        assert count == 0, diffs
    else:
        assert diffs == {u: (fma, plain) for u, (fma, plain) in FMA_ONLY.items()} and count == len(FMA_ONLY)


def test_exp_f32_special_values(checker):
    # NaNs (both signs, quiet and signalling), infinities, zeros, subnormals, the overflow and
    # underflow boundaries, again on their own so a failure names them.
    for lo, hi in [(0x7F800000, 0x7F800100), (0xFF800000, 0xFF800100), (0x7FFFFF00, 0x80000100),
                   (0xFFFFFF00, 0xFFFFFFFF), (0x42B17000, 0x42B18000), (0xC2CFF000, 0xC2D00000)]:
        count, diffs = _run(checker, hex(lo), hex(hi))
        assert count == 0, diffs
