"""The memory benchmark runs and prints its table with figures that agree with their sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from microforge.lower.lowering import lower_with
from microforge.lower.memory_plan import plan_memory
from microforge.model import read_model
from support import EXAMPLES, ROOT


def test_memory_bench_prints_table(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "memory.py"), "--only", "sine_int8.tflite",
                        "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("model | bound B | plan B")
    (row,) = json.loads(out.read_text())
    plan = plan_memory(read_model(EXAMPLES / "sine_int8.tflite"))
    assert row["activations"] == plan.activation_bytes and row["lower_bound"] == plan.lower_bound
    assert row["tflm_head"] > 0 and row["activations"] <= row["tflm_head"]
    lowering = lower_with(read_model(EXAMPLES / "sine_int8.tflite"), False)
    assert lowering.full_plan  # the arena is the activations (16-aligned), the runtime's state in flash
    assert row["arena_m4"] == lowering.arena_bytes >= row["activations"]
    assert "sine_int8.tflite | " in r.stdout
