"""The fast kernels' requantization equals the reference kernels' on every shift, edge and random
accumulators and multipliers (requant_check.cpp), built with and without optimization; so does the
short form the assembly uses (QuickRequant) wherever make_quick accepts it."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from support.rt_common import FLAGS, HERE, RUNTIME_SRC


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_fast_requantize_equals_reference(tmp_path, opt):
    if shutil.which("g++") is None:
        pytest.skip("g++ not installed")
    exe = tmp_path / "requant_check"
    subprocess.run(["g++", *FLAGS, opt, f"-I{RUNTIME_SRC}", "-fsanitize=undefined", "-fno-sanitize-recover=all",
                    str(HERE / "requant_check.cpp"), "-o", str(exe)], check=True)
    res = subprocess.run([str(exe)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    assert int(res.stdout.split()[-2]) > 10_000_000
    assert int(res.stdout.split()[-4]) > 1_000_000  # cases the short form (QuickRequant) took
