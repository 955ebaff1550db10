"""Will the model fit the board? Flash and RAM figures for `inspect --board` and `new`.

Where the board's compiler is on this machine, the figures come from a real build: the
generated model sources, the runtime and a probe `main` that initializes and invokes the
interpreter are compiled and linked with the board's exact CPU flags (newlib-nano, gc-sections),
and the exact arena (`model::kArenaSize`, sized by that compiler) is read back from the object.
Otherwise they are estimates, marked as such. The framework's own baseline (Arduino core,
bootloader) is not in these figures; the catalogue's budgets are what the board leaves free.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from microforge.boards import Board
from microforge.lower.lowering import Lowering
from microforge.project import emit, stackbound
from microforge.resources import runtime_dir

STACK_MARGIN = 512          # bytes added to the deepest measured frames
CODE_ESTIMATE = 24 * 1024   # runtime + app code when nothing can be compiled
STATE_ESTIMATE_PER_TENSOR = 64
STATE_ESTIMATE_PER_OP = 64

_PROBE = """\
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"
#include "model/model_data.h"
extern "C" const uint32_t mf_probe_arena = static_cast<uint32_t>(model::kArenaSize);
#if MF_MODEL_FULL_PLAN
static uint8_t* const arena = model::kArena;  // a full plan's own (model_plan.cpp)
#else
alignas(16) static uint8_t arena[model::kArenaSize];
#endif
int main() {
  mf::Interpreter it(model::kData, model::kSize, model::kOps, arena, model::kArenaSize, &model::kPlan);
  if (it.init() != mf::Status::kOk) return 1;
  return it.invoke() == mf::Status::kOk ? 0 : 2;
}
"""


@dataclass
class Budget:
    board: str
    measured: bool          # False: estimates
    how: str                # what the figures come from
    model_bytes: int
    code_bytes: int         # runtime + kernels + probe app, without the model
    arena_bytes: int
    static_ram_bytes: int   # .data + .bss besides the arena
    stack_bytes: int        # call-graph bound (stackbound.py); without one, deepest frames + margin
    flash_bytes: int
    ram_bytes: int          # arena + static RAM, our stack unless the framework fixes it, and
                            # code / read-only data on boards whose linker script copies them to RAM
    flash_budget: int | None
    ram_budget: int | None
    stack_budget: int | None = None  # the framework's fixed main stack (ArduinoCore-mbed: 32 KB)
    in_ram: str = ""                 # what else the board keeps in RAM ("code and model" on Teensy 4.x)

    @property
    def fits(self) -> bool:
        return ((self.flash_budget is None or self.flash_bytes <= self.flash_budget)
                and (self.ram_budget is None or self.ram_bytes <= self.ram_budget)
                and (self.stack_budget is None or self.stack_bytes <= self.stack_budget))

    def margins(self) -> dict[str, int | None]:
        return {
            "flash": None if self.flash_budget is None else self.flash_budget - self.flash_bytes,
            "ram": None if self.ram_budget is None else self.ram_budget - self.ram_bytes,
            "stack": None if self.stack_budget is None else self.stack_budget - self.stack_bytes,
        }

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "fits": self.fits, "margin": self.margins()}


def _compiler(board: Board) -> str | None:
    if board.cpu.startswith("cortex-"):
        return shutil.which("arm-none-eabi-g++")
    if board.kind == "host":
        return shutil.which("g++")
    return None


def _totals(board: Board, model_bytes: int, code: int, arena: int, static: int, stack: int,
            measured: bool, how: str) -> Budget:
    """code: everything but the model that the image keeps in flash (instructions, plan tables)."""
    ram = arena + static + (stack if board.main_stack_bytes is None else 0)
    copied = []
    if board.rodata_in == "ram":
        ram += model_bytes
        copied.append("model")
    if board.code_in == "ram" or board.rodata_in == "ram":
        ram += code  # instructions and the plan's read-only tables, not told apart: counted whole
        copied.append("code and plan tables")
    return Budget(board.id, measured, how, model_bytes, code, arena, static, stack,
                  flash_bytes=model_bytes + code, ram_bytes=ram,
                  flash_budget=board.flash_bytes, ram_budget=board.ram_bytes,
                  stack_budget=board.main_stack_bytes, in_ram=", ".join(copied))


def estimate(lowering: Lowering, board: Board) -> Budget:
    """Widened filters in the lowering's plan count as code."""
    model = lowering.model
    state = STATE_ESTIMATE_PER_TENSOR * len(model.tensors) + STATE_ESTIMATE_PER_OP * len(model.operators)
    extra = sum(o.wide.nbytes for o in lowering.ops if o.wide is not None)
    arena = lowering.arena_bytes if lowering.arena_bytes is not None else lowering.plan.activation_bytes + state
    return _totals(board, len(model.data), CODE_ESTIMATE + extra, arena, 1024,
                   2048, False, "estimate (no compiler for this board here)")


def measure(lowering: Lowering, board: Board) -> Budget:
    """Exact figures from a probe build with the board's flags, else an estimate."""
    cxx = _compiler(board)
    if cxx is None:
        return estimate(lowering, board)
    with tempfile.TemporaryDirectory(prefix="mf-budget-") as tmp:
        return _probe(Path(tmp), Path(cxx), lowering, board)


def _probe(work: Path, cxx: Path, lowering: Lowering, board: Board) -> Budget:
    model = lowering.model
    src = work / "src"
    (src / "model").mkdir(parents=True)
    # Same size, same section as the real array; zeros compile in no time (the probe never runs).
    (src / "model" / "model_data.h").write_text(
        "#pragma once\n#include <stddef.h>\n#include <stdint.h>\nnamespace model {\n"
        f"alignas(16) inline constexpr uint8_t kData[{len(model.data)}] = {{}};\n"
        "inline constexpr size_t kSize = sizeof(kData);\n}\n")
    (src / "model" / "model.h").write_text(emit.model_h(lowering))
    (src / "model" / "model_ops.cpp").write_text(emit.model_ops_cpp(lowering))
    (src / "model" / "model_plan.cpp").write_text(emit.model_plan_cpp(lowering))
    (src / "probe.cpp").write_text(_PROBE)
    runtime = runtime_dir() / "src"
    sources = sorted((runtime / "microforge").rglob("*.cpp")) + sorted(src.rglob("*.cpp"))
    arm = board.cpu.startswith("cortex-")
    flags = [*board.cflags, "-std=gnu++17", "-Os", "-fno-exceptions", "-fno-rtti", "-ffunction-sections",
             "-fdata-sections", "-fstack-usage", "-fcallgraph-info=su", f"-I{runtime}", f"-I{src}",
             *(f.replace("-D ", "-D") for f in lowering.flags)]  # as the project's platformio.ini
    objs = []
    for i, source in enumerate(sources):
        obj = work / f"{i:03d}_{source.stem}.o"
        _run([str(cxx), *flags, "-c", str(source), "-o", str(obj)], work)
        objs.append(obj)
    elf = work / "probe.elf"
    link = ["-Wl,--gc-sections", "-Os"]
    if arm:
        link += ["--specs=nano.specs", "--specs=nosys.specs"]
    _run([str(cxx), *board.cflags, *link, *map(str, objs), "-o", str(elf)], work)
    arena = _probe_arena(work, cxx, arm, objs)
    sections = _sections(cxx, arm, elf)
    text = sections.get(".text", 0) + sections.get(".rodata", 0) + sections.get(".ARM.exidx", 0)
    ram = sections.get(".data", 0) + sections.get(".bss", 0)
    # the call-graph bound (stackbound), else, without one, the old guess: deepest frames + margin
    bound = stackbound.firmware_bound(work, cxx, flags, src, objs, elf, "arm-none-eabi-" if arm else "")
    frames = sorted((_frame(su) for su in work.glob("*.su")), reverse=True)
    stack = bound.bytes if bound.bytes is not None else sum(frames[:4]) + STACK_MARGIN
    return _totals(board, len(model.data), max(text - len(model.data), 0), arena, max(ram - arena, 0), stack,
                   True, f"probe build with {cxx.name} {' '.join(board.cflags)}".strip())


def _run(cmd: list[str], cwd: Path) -> None:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        from microforge.errors import ToolError

        raise ToolError(f"probe build failed: {' '.join(cmd[:3])} ...\n{r.stderr[-1500:]}")


def _tool(cxx: Path, arm: bool, name: str) -> str:
    return str(cxx.with_name(f"arm-none-eabi-{name}")) if arm else name


def _probe_arena(work: Path, cxx: Path, arm: bool, objs: list[Path]) -> int:
    probe_obj = next(o for o in objs if o.name.endswith("_probe.o"))
    dump = subprocess.run([_tool(cxx, arm, "objdump"), "-s", "-j", ".rodata.mf_probe_arena", str(probe_obj)],
                          capture_output=True, text=True, cwd=work).stdout
    m = re.search(r"^\s*0000 ([0-9a-f]{8})", dump, re.M)
    if m is None:
        raise RuntimeError("cannot read the arena size from the probe object")
    return int.from_bytes(bytes.fromhex(m.group(1)), "little")


def _sections(cxx: Path, arm: bool, elf: Path) -> dict[str, int]:
    out = subprocess.run([_tool(cxx, arm, "size"), "-A", str(elf)], capture_output=True, text=True).stdout
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def _frame(su: Path) -> int:
    best = 0
    for line in su.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1].strip().isdigit():
            best = max(best, int(parts[1]))
    return best


def format_budget(b: Budget) -> str:
    def line(name: str, value: int, budget: int | None) -> str:
        if budget is None:
            return f"  {name:<6} {value:>10,} B   (no limit)"
        pct = 100.0 * value / budget if budget else 0.0
        return f"  {name:<6} {value:>10,} B of {budget:,} B ({pct:.1f} %), margin {budget - value:,} B"

    kind = "measured" if b.measured else "ESTIMATE"
    lines = [
        f"board {b.board}: {'fits' if b.fits else 'DOES NOT FIT'} ({kind}: {b.how})",
        f"  model {b.model_bytes:,} B, code {b.code_bytes:,} B, arena {b.arena_bytes:,} B, "
        f"static RAM {b.static_ram_bytes:,} B, stack ~{b.stack_bytes:,} B",
        line("flash", b.flash_bytes, b.flash_budget),
        line("RAM", b.ram_bytes, b.ram_budget),
    ]
    if b.stack_budget is not None:
        lines.append(line("stack", b.stack_bytes, b.stack_budget) + " (the framework's main thread stack)")
    if b.in_ram:
        lines.append(f"  RAM includes the {b.in_ram}: this board's linker script places them in RAM")
    return "\n".join(lines)


def _clearly_fits(b: Budget) -> bool:
    """An estimate under half of every budget cannot turn into a misfit when measured."""
    return ((b.flash_budget is None or 2 * b.flash_bytes <= b.flash_budget)
            and (b.ram_budget is None or 2 * b.ram_bytes <= b.ram_budget)
            and (b.stack_budget is None or 2 * b.stack_bytes <= b.stack_budget))


def check_fit(lowering: Lowering, boards: list[Board]) -> list[Budget]:
    """Budgets of the boards the project's lowering does not fit (measured where close to a limit)."""
    misfits = []
    for board in boards:
        if board.flash_bytes is None and board.ram_bytes is None:
            continue
        guess = estimate(lowering, board)
        if _clearly_fits(guess):
            continue
        exact = measure(lowering, board)
        if not exact.fits:
            misfits.append(exact)
    return misfits
