"""The protocol writer's u64/i64/fixed6 and the MPS2 port's time_us divide use 32-bit integer
arithmetic only (no libgcc __aeabi_uldivmod, float <-> uint64 or soft-double helpers on
Cortex-M): the same text and values as the 64-bit formulas they replaced, which
int_text_check.cpp keeps as the reference, and no such helper in the Cortex-M4 objects."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from support import ROOT

HERE = Path(__file__).resolve().parent
TEMPLATE_SRC = ROOT / "cookiecutter-template" / "{{cookiecutter.project_slug}}" / "src"
RUNTIME_SRC = ROOT / "runtime" / "src"
MPS2_PORT = RUNTIME_SRC / "port" / "mps2" / "port.cpp"
FLAGS = ["-std=c++17", "-fno-exceptions", "-fno-rtti", "-Wall", "-Wextra", "-Werror"]
M4_FLAGS = ["-Os", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
            "-ffunction-sections", "-fdata-sections"]
# What the old formulas linked: 64-bit divide, float <-> 64-bit integer, and soft double.
HELPER = re.compile(r"__aeabi_(u?ldivmod|f2u?lz|u?l2f|d\w+|\w+2d)|__udivmoddi4|__\w+df\w*")


def _div_u64_small() -> str:
    """div_u64_small() as the port defines it (in an anonymous namespace there)."""
    m = re.search(r"^uint64_t div_u64_small\(.*?^}\n", MPS2_PORT.read_text(), re.M | re.S)
    assert m, "div_u64_small not found in the MPS2 port"
    return "#include <stdint.h>\n" + m.group(0)


def _driver(tmp_path: Path, extra: list[str]) -> Path:
    (tmp_path / "div_u64_small.inc").write_text(_div_u64_small())
    exe = tmp_path / "int_text_check"
    # UBSan: a shift past the width (e.g. a sign bit left in fixed6's exponent) must fail.
    subprocess.run(["g++", *FLAGS, *extra, "-O2", "-fsanitize=undefined", "-fno-sanitize-recover=all",
                    f"-I{tmp_path}", f"-I{TEMPLATE_SRC}",
                    f"-I{RUNTIME_SRC}", str(HERE / "int_text_check.cpp"),
                    str(TEMPLATE_SRC / "protocol_io.cpp"), "-o", str(exe)], check=True)
    return exe


def _has_fma() -> bool:
    try:
        return " fma " in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


# The Cortex-M4 build contracts fixed6's `frac * 1e6f + 0.5f` into one VFMA; x86-64 by default
# rounds twice. Both ways, old and new agree.
@pytest.mark.parametrize("contract", ["off", "fma"])
def test_same_text_and_values_as_the_64_bit_formulas(tmp_path: Path, contract: str) -> None:
    extra = ["-ffp-contract=off"]
    if contract == "fma":
        if not _has_fma():
            pytest.skip("no FMA on this CPU")
        extra = ["-mfma", "-ffp-contract=fast"]
    exe = _driver(tmp_path, extra)
    res = subprocess.run([str(exe)], capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    counts = dict(line.split() for line in res.stdout.splitlines())
    assert counts["failures"] == "0"
    assert int(counts["integers"]) > 5_000_000 and int(counts["fixed6"]) > 40_000_000


def test_no_64_bit_helpers_on_cortex_m4(tmp_path: Path) -> None:
    if shutil.which("arm-none-eabi-g++") is None:
        pytest.skip("arm-none-eabi-g++ not installed")
    objs = {
        "protocol_io": (TEMPLATE_SRC / "protocol_io.cpp", []),
        "mps2_port": (MPS2_PORT, ["-DMF_PORT_MPS2=1"]),
        "mps3_port": (MPS2_PORT, ["-DMF_PORT_MPS2=1", "-DMF_MPS3_AN547=1"]),
    }
    for name, (src, defines) in objs.items():
        obj = tmp_path / f"{name}.o"
        subprocess.run(["arm-none-eabi-g++", *FLAGS, *M4_FLAGS, *defines, f"-I{RUNTIME_SRC}",
                        "-c", str(src), "-o", str(obj)], check=True)
        undefined = subprocess.run(["arm-none-eabi-nm", "-u", str(obj)], capture_output=True,
                                   text=True, check=True).stdout.split()
        assert not [s for s in undefined if HELPER.fullmatch(s)], (name, undefined)
