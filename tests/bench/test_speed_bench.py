"""The speed benchmark on the bundled sine model: per-operator counts that add up, and repeatable."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import EXAMPLES, ROOT

TOOLS = ("qemu-system-arm", "arm-none-eabi-g++", "arm-none-eabi-nm", "arm-none-eabi-readelf")
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                reason="needs qemu-system-arm and the arm-none-eabi toolchain")

# What an inference costs besides its operators' eval calls: the interpreter's loop per operator,
# plus, once, the input copy and mf-run's own timer reads (measured: ~90 instructions per operator
# in all for sine; the profiling firmware adds its table update per operator).
OVERHEAD_PER_OP = 150
OVERHEAD_FIXED = 300


def _bench(tmp: Path, name: str, plot: str) -> tuple[str, dict]:
    out = tmp / f"{name}.json"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "speed.py"), "--only", "sine_int8.tflite",
                        "--json", str(out), "--plot", plot, "--work", str(tmp / name)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    (row,) = json.loads(out.read_text())
    return r.stdout, row


def test_speed_bench_sine(tmp_path: Path) -> None:
    png = tmp_path / "speed.png"
    stdout, row = _bench(tmp_path, "first", str(png))
    assert stdout.startswith("model | MACs | instr/inference | instr/MAC")
    assert "sine_int8.tflite | 288 | " in stdout and "FULLY_CONNECTED | 3 | " in stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    assert row["macs"] == 288 and row["instructions"] > 288
    assert [o["op"] for o in row["ops"]] == ["FULLY_CONNECTED"] * 3
    assert all(o["raw"] > row["probe"] > 0 for o in row["ops"])
    n = len(row["ops"])
    # The profiling firmware: its operators' counts sum to its whole count, less the overhead.
    raw = sum(o["raw"] for o in row["ops"])
    assert 0 < row["instructions_profiled"] - raw <= OVERHEAD_FIXED + n * OVERHEAD_PER_OP
    # The plain firmware's count against the operators' counts without the counter reads.
    ops = sum(o["instructions"] for o in row["ops"])
    assert 0 < row["instructions"] - ops <= OVERHEAD_FIXED + n * OVERHEAD_PER_OP
    assert row["instructions"] < row["instructions_profiled"]
    assert row["ram_bytes"] == row["arena_bytes"] + row["static_bytes"] and row["arena_bytes"] > 0
    assert row["model_bytes"] == (EXAMPLES / "sine_int8.tflite").stat().st_size
    assert 0 < row["code_bytes"] < 64 * 1024

    _, again = _bench(tmp_path, "second", "")
    keys = ("instructions", "instructions_profiled", "probe", "ops", "code_bytes", "arena_bytes", "static_bytes")
    assert {k: again[k] for k in keys} == {k: row[k] for k in keys}

    # bench/profile.py on the same project: every instruction of the run mapped to a function,
    # the total the firmware's own count plus the run command's parsing, counter reads and result
    # lines (3.3k instructions for sine).
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "profile.py"), str(tmp_path / "first" / "sine_int8"),
                        "--top", "5", "--annotate", "fully_connected"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    head, *top = r.stdout.splitlines()[:6]
    count, traced = (int(v.replace(",", "")) for v in re.findall(r"[\d,]+\d", head)[:2])
    assert count == row["instructions"] and count < traced <= count + 10_000
    assert len(top) == 5 and any("fully_connected" in line for line in top)
    assert sum(int(line.split()[0].replace(",", "")) for line in top) <= traced
    assert "<mf::kernels::fully_connected" in r.stdout
