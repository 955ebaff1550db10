"""Speed benchmark: exact instructions per inference on an emulated Cortex-M4F, against TFLM.

For the bundled models and every model in ../shared/models (when present) whose ops the runtime
has, it generates a project (`microforge new --model M --board qemu-m4`), adds a second env
`qemu-m4-profile` (the same firmware built with -D MF_PROFILE_OPS=1), builds both, runs them in
QEMU mps2-an386 with `-icount shift=6` and prints per model:

- instructions per inference: the `m-mf-count-N` of one `mf-run` of the plain firmware (the input
  copy into the input tensors, then `Interpreter::invoke()`), and instructions per MAC (MACs from
  `microforge.model.analysis.op_macs`, what `microforge inspect` prints);
- the split per op type, from the profiling firmware's `mf-profile` (instructions per operator,
  minus the cost of the two counter reads around it, measured back to back on the device and
  reported as `m-mf-profile-probe-N`): instructions, share of the inference, and instructions per
  MAC for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED; what is left is the interpreter's loop
  plus the input copy;
- code bytes without the model, the whole flash image (code + model + plan, beside TFLM + CMSIS-NN's
  code + the same model) and RAM (arena + static data), read from the plain firmware's ELF (see
  `elf_figures`); `--optimize size` generates the projects for the smallest flash;
- TFLM's figures on the same emulated core where ../shared/docs/anchors.md has them (TFLM_M4).

Every model runs on one input drawn from a fixed seed (instruction counts can depend on the input
data, e.g. through saturation branches), so two runs print the same counts. A PNG plot of
instructions per MAC (ours, TFLM reference kernels, TFLM with CMSIS-NN) goes to --plot.

Run: .venv/bin/python bench/speed.py [--only NAME] [--optimize speed|size] [--json FILE] [--plot FILE] [--work DIR]
                                    [--build-flags '-D MF_FAST_KERNELS=0']
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
from microforge.device.envs import read_envs
from microforge.device.protocol import DeviceClient
from microforge.device.reference import TensorSpec, to_bytes
from microforge.device.runner import build, start
from microforge.errors import MicroforgeError
from microforge.lower.optimize import OPTIMIZE
from microforge.model import ModelInfo, read_model
from microforge.model.analysis import op_macs
from microforge.model.ops import kernel_for, type_problems

sys.path.insert(0, str(Path(__file__).resolve().parent))
from anchors import TFLM_M4  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "generator" / "microforge" / "examples"
SHARED_MODELS = ROOT.parent / "shared" / "models"
DEFAULT_PLOT = ROOT / "bench" / "out" / "speed.png"
SEED = 1234
PROFILE_ENV = "qemu-m4-profile"
RUN_TIMEOUT = 600.0  # host seconds for one inference under QEMU (VWW float is the slowest)
MAC_OPS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")

# The env the benchmark appends to the generated platformio.ini (before the first build:
# PlatformIO wipes every env's build folder when platformio.ini changes).
_PROFILE_INI = f"""
; added by bench/speed.py: the same firmware with per-operator instruction counts (mf-profile)
[env:{PROFILE_ENV}]
extends = env:qemu-m4
build_flags = ${{env:qemu-m4.build_flags}} -D MF_PROFILE_OPS=1
"""


def models() -> list[tuple[str, Path]]:
    """(key, path): the bundled models, then ../shared/models (keyed by their path there)."""
    own = [(p.name, p) for p in sorted(EXAMPLES.glob("*.tflite"))]
    if not SHARED_MODELS.is_dir():
        print(f"note: {SHARED_MODELS} not present (../shared is optional): bundled models only",
              file=sys.stderr)
        return own
    return own + [(p.relative_to(SHARED_MODELS).as_posix(), p) for p in sorted(SHARED_MODELS.rglob("*.tflite"))]


def missing_tools() -> list[str]:
    return [t for t in ("qemu-system-arm", "arm-none-eabi-g++", "arm-none-eabi-nm", "arm-none-eabi-readelf")
            if shutil.which(t) is None]


# -- the firmware ELF --------------------------------------------------------------------------

def _symbols(elf: Path) -> dict[str, int]:
    """Demangled symbol name -> size, from `arm-none-eabi-nm -S -C`."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "-C", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    sizes: dict[str, int] = {}
    for line in out.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4:
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def _sections(elf: Path) -> list[tuple[str, str, int, str]]:
    """(name, type, size, flags) of every section, from `arm-none-eabi-readelf -S -W`."""
    out = subprocess.run(["arm-none-eabi-readelf", "-S", "-W", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    rows = []
    for line in out.splitlines():
        if "]" not in line or not line.lstrip().startswith("["):
            continue
        parts = line.split("]", 1)[1].split()
        # Name Type Addr Off Size ES [Flg] Lk Inf Al: Flg is absent when empty.
        if len(parts) >= 9 and parts[0] not in ("NULL", "Name"):
            flags = parts[6] if len(parts) == 10 else ""
            rows.append((parts[0], parts[1], int(parts[4], 16), flags))
    return rows


def elf_figures(elf: Path) -> dict[str, int]:
    """Code bytes without the model, arena and other static RAM of a linked firmware.

    Method: the flash image is every allocated section that has contents (type other than
    NOBITS: .isr_vector, .text, .rodata, .ARM.exidx, .init_array and the load image of .data);
    the model is the `model::kData` array in .rodata, whose size `nm -S` gives, and the plan the
    generated plan's tables (offsets, per-channel requantization, constant tensor records);
    flash = image (what the board's flash holds); code = image - model - plan (runtime, kernels,
    generated op table, firmware, startup and the newlib parts it links). RAM is .data + .bss (the
    linker's .stack reservation, 64 KiB on qemu-m4, and the empty .heap are left out); the arena is
    the firmware's `arena` array (in .bss), or a full plan's `model::kArena`, static RAM the
    rest. Debug sections are not allocated and never count.
    """
    syms = _symbols(elf)
    model = syms.get("model::kData", 0)
    plan = sum(size for name, size in syms.items() if _PLAN_TABLE.fullmatch(name))
    arena = syms.get("(anonymous namespace)::arena", 0) or syms.get("model::kArena", 0)  # a full plan's
    image = sum(size for _, typ, size, flags in _sections(elf) if "A" in flags and typ != "NOBITS")
    ram = sum(size for name, _, size, _ in _sections(elf) if name in (".data", ".bss"))
    return {"model_bytes": model, "plan_bytes": plan, "code_bytes": image - model - plan, "flash_bytes": image,
            "arena_bytes": arena, "static_bytes": ram - arena, "ram_bytes": ram}


# The generated plan's flash tables (model_plan.cpp): data computed from the model, counted
# apart from code (offsets, per-channel requantization and its short form, widened filters,
# constant tensor records, the operators' prepared params and op data; a full plan's every tensor
# record, nodes, io slots, node registrations, io ids and its FullPlan).
_PLAN_TABLE = re.compile(r"model::(\(anonymous namespace\)::)?"
                         r"(kOffsets|kChannelQuant|kMultipliers\d+|kShifts\d+|kQuick\d+|kWide\d+|kConstantTensors"
                         r"|kRecordIndex|kParams\d+|kOpData\d+|kPlannedOps|kPlan"
                         r"|kTensorRecords|kNodes|kSlots|kNodeRegs|kInputs|kOutputs|kFullPlan)")


# -- running the firmware ----------------------------------------------------------------------

def _run_firmware(project: Path, env: str, data: bytes, profile: bool) -> dict[str, object]:
    """Boots one env in QEMU, loads the input, runs one inference (and mf-profile around it)."""
    spec = next(s for s in read_envs(project) if s.name == env)
    build_dir = project / ".pio" / "build" / env
    with open(project / ".pio" / f"speed-{env}.log", "wb") as log:
        transport = start(spec, build_dir, None, 115200, sink=log.write, project=project)
        try:
            client = DeviceClient(transport)
            client.wait_boot(30.0)
            info = client.info()
            if info.counter != "instructions":
                raise MicroforgeError(f"{env}: the firmware counts '{info.counter}', not instructions")
            if profile:
                client.command("mf-profile")  # empty: nothing ran since boot
            client.load(data)
            run = client.run(RUN_TIMEOUT)
            result: dict[str, object] = {"count": run.count, "outputs": [o.hex() for o in run.outputs]}
            if profile:
                result.update(parse_profile(client.command("mf-profile")))
            client.exit()
        finally:
            transport.close()
    return result


def parse_profile(lines: list[str]) -> dict[str, object]:
    """The reply of `mf-profile`: runs, the counter-read cost, (index, builtin code, count) per op."""
    runs, probe, ops = None, None, []
    for ln in lines:
        if ln.startswith("m-mf-profile-runs-"):
            runs = int(ln.removeprefix("m-mf-profile-runs-"))
        elif ln.startswith("m-mf-profile-probe-"):
            probe = int(ln.removeprefix("m-mf-profile-probe-"))
        elif ln.startswith("m-mf-op-"):
            index, code, count = ln.removeprefix("m-mf-op-").split("-")
            ops.append((int(index), int(code), int(count)))
    if runs != 1 or probe is None:
        raise MicroforgeError(f"unexpected reply to 'mf-profile%': {lines}")
    return {"probe": probe, "ops": ops}


def seeded_inputs(model: ModelInfo, seed: int) -> list[np.ndarray]:
    """One input per model input, drawn as the verifier draws them (TensorSpec.random) but from
    the model file alone: TFLM's interpreter cannot load every model the runtime runs."""
    rng = np.random.default_rng(seed)
    specs = []
    for t in model.input_tensors():
        per_tensor = len(t.quant.scales) == 1
        specs.append(TensorSpec(t.index, t.name, np.dtype(t.dtype), tuple(t.shape),
                                t.quant.scales[0] if per_tensor else 0.0,
                                t.quant.zero_points[0] if per_tensor else 0))
    return [s.random(rng) for s in specs]


def measure(key: str, path: Path, model: ModelInfo, work: Path, seed: int,
            optimize: str = "speed") -> dict[str, object]:
    """Generates, builds and runs the model's project; all figures of one row."""
    project = work / key.removesuffix(".tflite").replace("/", "_")
    gen = subprocess.run([sys.executable, "-m", "microforge.cli", "new", "--model", str(path), "--board",
                          "qemu-m4", "--output", str(project), "--force", "--optimize", optimize],
                         capture_output=True, text=True)
    if gen.returncode != 0:
        raise MicroforgeError(f"microforge new failed: {(gen.stderr or gen.stdout).strip()[:400]}")
    with open(project / "platformio.ini", "a", encoding="utf-8") as ini:
        ini.write(_PROFILE_INI)
    build(project, "qemu-m4")
    build(project, PROFILE_ENV)
    data = to_bytes(seeded_inputs(model, seed))
    plain = _run_firmware(project, "qemu-m4", data, profile=False)
    prof = _run_firmware(project, PROFILE_ENV, data, profile=True)
    if plain["outputs"] != prof["outputs"]:
        raise MicroforgeError("the profiling firmware computed other outputs than the plain one")
    probe = int(prof["probe"])  # type: ignore[arg-type]
    ops = []
    for index, code, count in prof["ops"]:  # type: ignore[union-attr]
        op = model.operators[index]
        if op.builtin_code != code:
            raise MicroforgeError(f"operator {index}: the firmware ran builtin {code}, the model has {op.op}")
        ops.append({"index": index, "op": op.op, "raw": count, "instructions": max(count - probe, 0),
                    "macs": op_macs(model, op)})
    if len(ops) != len(model.operators):
        raise MicroforgeError(f"mf-profile reported {len(ops)} operators, the model has {len(model.operators)}")
    return {"instructions": plain["count"], "instructions_profiled": prof["count"], "probe": probe,
            "ops": ops, **elf_figures(project / ".pio" / "build" / "qemu-m4" / "firmware.elf")}


def by_op_type(r: dict[str, object]) -> list[dict[str, object]]:
    """Per builtin op: operators, instructions, share of the inference, MACs, instructions/MAC."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for o in r["ops"]:  # type: ignore[union-attr]
        a = acc[o["op"]]
        a[0] += 1
        a[1] += o["instructions"]
        a[2] += o["macs"]
    total = int(r["instructions"])  # type: ignore[arg-type]
    rows = []
    for op, (n, instr, macs) in sorted(acc.items(), key=lambda kv: -kv[1][1]):
        rows.append({"op": op, "operators": n, "instructions": instr, "share": instr / total if total else 0.0,
                     "macs": macs, "instr_per_mac": instr / macs if op in MAC_OPS and macs else None})
    rest = total - sum(x["instructions"] for x in rows)
    rows.append({"op": "(interpreter + input copy)", "operators": 0, "instructions": rest,
                 "share": rest / total if total else 0.0, "macs": 0, "instr_per_mac": None})
    return rows


def row(key: str, path: Path, work: Path, seed: int, optimize: str = "speed") -> dict[str, object]:
    out: dict[str, object] = {"model": key}
    try:
        model = read_model(path)
    except MicroforgeError as err:
        out["error"] = str(err).splitlines()[0]
        return out
    missing = sorted({op.op for op in model.operators if kernel_for(op) is None})
    if missing:
        out["unsupported"] = missing
        return out
    rejected_types = type_problems(model)
    if rejected_types:  # tensor types a kernel refuses (hybrid, int16): `microforge new` refuses them
        out["unsupported"] = [p.line() for p in rejected_types]
        return out
    out["macs"] = sum(op_macs(model, op) for op in model.operators)
    try:
        out.update(measure(key, path, model, work, seed, optimize))
    except (MicroforgeError, subprocess.SubprocessError, OSError, ValueError) as err:
        out["error"] = str(err).strip().splitlines()[0][:300]
        return out
    out["instr_per_mac"] = out["instructions"] / out["macs"] if out["macs"] else None  # type: ignore[operator]
    out["op_types"] = by_op_type(out)
    if key in TFLM_M4:
        out["tflm"] = TFLM_M4[key]
    return out


# -- output ------------------------------------------------------------------------------------

def _fmt(v: object, digits: int = 2) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def print_tables(rows: list[dict[str, object]]) -> None:
    head = ("model", "MACs", "instr/inference", "instr/MAC", "TFLM ref instr/MAC", "TFLM CMSIS-NN instr/MAC",
            "code B", "plan B", "TFLM code B (ref / CMSIS-NN)", "flash B", "TFLM + CMSIS-NN flash B", "arena B",
            "static B", "RAM B", "TFLM arena B")
    print(" | ".join(head))
    print(" | ".join("---" for _ in head))
    for r in rows:
        if "unsupported" in r:
            print(f"{r['model']} | unsupported: {', '.join(r['unsupported'])}")  # type: ignore[arg-type]
            continue
        if "error" in r:
            print(f"{r['model']} | error: {r['error']}")
            continue
        t = r.get("tflm") or {}
        code_t = f"{t['code_ref']:,} / {t['code_cmsis']:,}" if t else "-"
        print(" | ".join([
            str(r["model"]), _fmt(r["macs"]), _fmt(r["instructions"]), _fmt(r["instr_per_mac"]),
            _fmt(t.get("ref_ipm")), _fmt(t.get("cmsis_ipm")), _fmt(r["code_bytes"]), _fmt(r["plan_bytes"]), code_t,
            _fmt(r["flash_bytes"]), _fmt(t["code_cmsis"] + r["model_bytes"] if t else None),
            _fmt(r["arena_bytes"]), _fmt(r["static_bytes"]), _fmt(r["ram_bytes"]), _fmt(t.get("arena")),
        ]))
    for r in rows:
        if "op_types" not in r:
            continue
        print(f"\n{r['model']}: {r['instructions']:,} instructions per inference, per op type")
        print("op | operators | instructions | share | MACs | instr/MAC")
        print("--- | --- | --- | --- | --- | ---")
        for o in r["op_types"]:  # type: ignore[union-attr]
            print(" | ".join([str(o["op"]), _fmt(o["operators"] or None), _fmt(o["instructions"]),
                              f"{100 * o['share']:.1f} %", _fmt(o["macs"] or None), _fmt(o["instr_per_mac"])]))


def plot(rows: list[dict[str, object]], path: Path) -> None:
    """Grouped bars of instructions per MAC: ours, TFLM reference kernels, TFLM with CMSIS-NN."""
    try:
        import matplotlib
    except ImportError:
        raise MicroforgeError("the plot needs matplotlib (pip install -e '.[dev]'), or pass --plot ''") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.get("instr_per_mac") is not None]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(shown) + 2), 4.8))
    width = 0.27
    xs = range(len(shown))
    series = [("microforge", [r["instr_per_mac"] for r in shown], "tab:blue"),
              ("TFLM reference kernels", [(r.get("tflm") or {}).get("ref_ipm") for r in shown], "tab:gray"),
              ("TFLM + CMSIS-NN", [(r.get("tflm") or {}).get("cmsis_ipm") for r in shown], "tab:orange")]
    for k, (label, values, color) in enumerate(series):
        pts = [(x + (k - 1) * width, v) for x, v in zip(xs, values, strict=True) if v is not None]
        if pts:
            ax.bar([p[0] for p in pts], [p[1] for p in pts], width, label=label, color=color)
    ax.set_xlim(-0.6, len(shown) - 0.4)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([Path(str(r["model"])).stem for r in shown], rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("instructions per MAC (Cortex-M4F, QEMU -icount)")
    ax.set_title("Instructions per MAC per inference (lower is better)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="only models whose path contains this")
    ap.add_argument("--json", help="also write the rows as JSON here")
    ap.add_argument("--plot", default=str(DEFAULT_PLOT), help="PNG of instr/MAC ('' for none); default %(default)s")
    ap.add_argument("--work", help="keep the generated projects here (default: a temporary folder)")
    ap.add_argument("--seed", type=int, default=SEED, help="seed of the one input per model (default %(default)s)")
    ap.add_argument("--optimize", choices=OPTIMIZE, default="speed",
                    help="the projects' flash/speed choice (microforge new --optimize; default speed)")
    ap.add_argument("--build-flags", default="",
                    help="extra compiler flags for both firmwares, e.g. '-D MF_FAST_KERNELS=0' (reference kernels)")
    args = ap.parse_args()
    if args.build_flags:
        # PlatformIO adds $PLATFORMIO_BUILD_FLAGS to every env's build_flags (build() passes os.environ on).
        os.environ["PLATFORMIO_BUILD_FLAGS"] = " ".join(filter(None, [os.environ.get("PLATFORMIO_BUILD_FLAGS"),
                                                                       args.build_flags]))
    missing = missing_tools()
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (apt-get install qemu-system-arm gcc-arm-none-eabi "
              "libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib)", file=sys.stderr)
        return 0
    chosen = [(k, p) for k, p in models() if not args.only or args.only in k]
    with tempfile.TemporaryDirectory(prefix="mf-speed-") as tmp:
        work = Path(args.work).resolve() if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = [row(k, p, work, args.seed, args.optimize) for k, p in chosen]
    print_tables(rows)
    if os.environ.get("PLATFORMIO_BUILD_FLAGS"):
        print(f"\nextra build flags: {os.environ['PLATFORMIO_BUILD_FLAGS']}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    if args.plot:
        plot(rows, Path(args.plot))
        print(f"\nplot: {args.plot}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
