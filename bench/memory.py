"""Memory benchmark: microforge's arena and RAM against the peak-live lower bound and TFLM.

For every model in ../shared/models (when present) and the project's own models it prints:
the peak-live lower bound of the activations, microforge's planned activations, its exact arena
on Cortex-M4 (activations + runtime state, sized by arm-none-eabi-g++ for qemu-m4), its total RAM
on Cortex-M4 (arena + static data of a probe build with the qemu-m4 flags, without stack), and
TFLM's non-persistent ("head") and total arena, measured with TFLM's own Python interpreter
(`tflite-micro`; a 64-bit host, so its persistent part is larger than on a 32-bit MCU), and
TFLM's whole arena on Cortex-M4 where ../shared/docs/anchors.md has it (bench/anchors.py: an
external figure, the fair one to compare our M4 arena with).

Run: .venv/bin/python bench/memory.py [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

from microforge.boards import all_boards
from microforge.errors import MicroforgeError
from microforge.lower.lowering import lower
from microforge.lower.memory_plan import plan_memory
from microforge.model import read_model
from microforge.model.ops import kernel_for, type_problems
from microforge.project.budget import measure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anchors import TFLM_M4  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SHARED_MODELS = ROOT.parent / "shared" / "models"

_TFLM_PROBE = """
import sys
from tflite_micro.python.tflite_micro import runtime
it = runtime.Interpreter.from_file(sys.argv[1])
sys.stderr.flush()
it.print_allocations()
"""


def tflm_arena(path: Path) -> tuple[int, int] | None:
    """(head, total) from TFLM's RecordingMicroAllocator, in a child (it can crash)."""
    r = subprocess.run([sys.executable, "-c", _TFLM_PROBE, str(path)], capture_output=True, text=True,
                       timeout=120)
    head = re.search(r"Arena allocation head (\d+)", r.stderr)
    total = re.search(r"Arena allocation total (\d+)", r.stderr)
    return (int(head.group(1)), int(total.group(1))) if head and total else None


def models() -> list[Path]:
    own = sorted((ROOT / "generator" / "microforge" / "examples").glob("*.tflite"))
    shared = sorted(SHARED_MODELS.rglob("*.tflite")) if SHARED_MODELS.is_dir() else []
    return own + shared


def _shared(path: Path) -> bool:
    return SHARED_MODELS.is_dir() and path.resolve().is_relative_to(SHARED_MODELS.resolve())


def row(path: Path, board) -> dict[str, object]:
    try:
        model = read_model(path)
    except MicroforgeError as err:
        return {"model": path.name, "error": str(err).splitlines()[0]}
    plan = plan_memory(model)
    out: dict[str, object] = {"model": path.name, "lower_bound": plan.lower_bound,
                              "activations": plan.activation_bytes}
    key = path.resolve().relative_to(SHARED_MODELS.resolve()).as_posix() if _shared(path) else ""
    out["tflm_m4"] = TFLM_M4[key]["arena"] if key in TFLM_M4 else None
    tflm = tflm_arena(path)
    out["tflm_head"], out["tflm_total"] = tflm if tflm else (None, None)
    missing = sorted({op.op for op in model.operators if kernel_for(op) is None})
    missing += sorted({f"{p.op.op} ({p.problem})" for p in type_problems(model)})
    if missing:
        out["unsupported"] = missing
        return out
    b = measure(lower(model, [board]), board)
    out["arena_m4"] = b.arena_bytes
    out["ram_m4"] = b.arena_bytes + b.static_ram_bytes
    return out


def _fmt(v: object) -> str:
    return f"{v:,}" if isinstance(v, int) else ("-" if v is None else str(v))


def _ratio(a: object, b: object) -> str:
    return f"{a / b:.2f}" if isinstance(a, int) and isinstance(b, int) and b else "-"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--only", help="only models whose file name contains this")
    args = ap.parse_args()
    board = all_boards()["qemu-m4"]
    rows = [row(p, board) for p in models() if not args.only or args.only in p.name]
    head = ("model", "bound B", "plan B", "plan/bound", "TFLM head B", "plan/TFLM head", "arena M4 B",
            "RAM M4 B", "TFLM total B (x86-64)", "TFLM arena M4 B (anchors.md)", "arena M4/TFLM M4")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for r in rows:
        if "error" in r:
            print(f"{r['model']} | error: {r['error']}")
            continue
        arena = r.get("arena_m4", "unsupported: " + ", ".join(r.get("unsupported", [])))
        print(" | ".join([
            str(r["model"]), _fmt(r["lower_bound"]), _fmt(r["activations"]),
            _ratio(r["activations"], r["lower_bound"]), _fmt(r["tflm_head"]),
            _ratio(r["activations"], r["tflm_head"]), _fmt(arena), _fmt(r.get("ram_m4")),
            _fmt(r["tflm_total"]), _fmt(r["tflm_m4"]), _ratio(r.get("arena_m4"), r["tflm_m4"]),
        ]))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
