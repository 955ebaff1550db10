"""The `microforge` command: parses arguments, calls the library, reports. No logic of its own."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from microforge import __version__
from microforge.errors import MicroforgeError, WriteError
from microforge.lower.optimize import OPTIMIZE


def _cmd_new(args: argparse.Namespace) -> int:
    from microforge.project.scaffold import generate

    out = generate(Path(args.model), args.board, Path(args.output), force=args.force, optimize=args.optimize)
    print(f"created {out}")
    print(f"next: cd {out} && pio run -e {args.board[0]} && pytest")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from microforge.boards import get_boards
    from microforge.lower.lowering import lower, lower_with
    from microforge.lower.memory_plan import plan_memory
    from microforge.model import read_model
    from microforge.model.analysis import format_summary, summarize
    from microforge.project.budget import format_budget, measure

    model = read_model(args.model)
    summary = summarize(model)
    plan = plan_memory(model)
    summary["memory"] = {"activation_bytes": plan.activation_bytes, "peak_live_lower_bound": plan.lower_bound}
    full_arena = lower_with(model, False).arena_bytes if not summary["unsupported"] else None
    if full_arena is not None:  # full plan: the whole arena (otherwise each target's compiler sizes it)
        summary["memory"]["full_plan_arena_bytes"] = full_arena
    boards = get_boards(args.board or [])
    # Each board as a project for it alone would be generated (at speed: widened filters where they fit).
    budgets = [measure(lower(model, [b], args.optimize), b) for b in boards] if not summary["unsupported"] else []
    if budgets:
        summary["boards"] = {b.board: b.as_dict() for b in budgets}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
        print(f"activations {plan.activation_bytes:,} B planned (peak-live lower bound {plan.lower_bound:,} B)")
        if full_arena is not None:
            print(f"full plan: arena {full_arena:,} B (the activations; records and nodes in flash)")
        for b in budgets:
            print(format_budget(b))
    if args.board and summary["unsupported"]:
        print("no fit check: the runtime lacks some of the model's operators or rejects their tensor types "
              "(listed above)", file=sys.stderr)
    return 0 if all(b.fits for b in budgets) else 7


def _cmd_boards(args: argparse.Namespace) -> int:
    from microforge.boards import all_boards

    boards = all_boards()
    if args.json:
        print(json.dumps({b.id: {"name": b.name, "kind": b.kind, "flash_bytes": b.flash_bytes,
                                 "ram_bytes": b.ram_bytes, "budget_source": b.budget_source,
                                 "platformio": b.platformio, "cpu": b.cpu, "fpu": b.fpu,
                                 "cycle_counter": b.cycle_counter, "usb": list(b.usb_ids),
                                 "kernels": b.kernels, "memory": {"code": b.code_in, "rodata": b.rodata_in},
                                 "main_stack_bytes": b.main_stack_bytes,
                                 "framework_check": {"status": b.check, "detail": b.check_detail}}
                          for b in boards.values()}, indent=2))
        return 0

    def kb(n: int | None) -> str:
        return "-" if n is None else f"{n / 1024:,.0f} KB" if n % 1024 else f"{n // 1024:,} KB"

    width = max(len(b.id) for b in boards.values())
    print(f"{'id':<{width}}  {'kind':<8}  {'cpu':<13}  {'flash free':>10}  {'RAM free':>10}  {'counter':<12}  "
          f"{'real framework':<14}  name")
    for b in boards.values():
        print(f"{b.id:<{width}}  {b.kind:<8}  {b.cpu:<13}  {kb(b.flash_bytes):>10}  {kb(b.ram_bytes):>10}  "
              f"{b.cycle_counter:<12}  {b.check:<14}  {b.name}")
    print("flash/RAM free: what the framework and bootloader leave to the firmware "
          "(`microforge boards --json` gives the bytes and the source of each figure)")
    print("real framework: built against the board's real PlatformIO platform and Arduino core here "
          "(linked, or compiled where the link needs a library the offline copy lacks); \"not checked\": never "
          "built against it (docs/boards.md)")
    return 0


def _cmd_setup(args: argparse.Namespace) -> int:
    from microforge.project import pio_env

    core = Path(args.core_dir) if args.core_dir else pio_env.default_core_dir()
    missing = pio_env.check_tools()
    pio_env.seed_core_dir(core)
    print(f"PlatformIO core dir seeded for offline use: {core}")
    usual = pio_env.usual_core_dir()
    if usual.resolve() != core.resolve():
        pio_env.seed_core_dir(usual, quiet=False)
        print(f"tool-scons present in your usual core dir (plain `pio run` of host/QEMU envs): {usual}")
    if missing:
        packages = sorted({t.debian_package for t in missing})
        raise MicroforgeError(
            "some build tools are missing: "
            + ", ".join(f"{t.tool} (for {t.needed_for})" for t in missing),
            f"install them: sudo apt-get install {' '.join(packages)}",
        )
    print("toolchains found: g++, arm-none-eabi-gcc, qemu-system-arm")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from microforge.device.verify import verify
    from microforge.device.verify_report import as_dict, format_report, save_outputs, write_junit

    tty = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if tty:  # a bar only on a terminal: logs and CI output stay clean
            bar = "#" * (30 * done // max(total, 1))
            print(f"\r  [{bar:<30}] {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    doing = "starting the firmware already built/flashed for" if args.no_flash else "building and starting"
    print(f"{doing} env '{args.env}' of {args.project} ...", flush=True)
    report = verify(Path(args.project), args.env, count=args.count, seed=args.seed,
                    inputs=Path(args.inputs) if args.inputs else None, port=args.port,
                    progress=progress, flash=not args.no_flash)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(as_dict(report), indent=2))
    if args.save_outputs:
        save_outputs(report, Path(args.save_outputs))
    if args.junit:
        write_junit(report, Path(args.junit))
    return 0 if report.ok else 10


OPTIMIZE_HELP = ("speed (default): widened CONV_2D and FULLY_CONNECTED filters (where the boards have room) and "
                 "short requantization tables in flash, for the fewest instructions; size: neither, for the smallest "
                 "flash image (same results, more instructions)")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="microforge", description=__doc__)
    p.add_argument("--version", action="version", version=f"microforge {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    new = sub.add_parser("new", help="generate a PlatformIO project for a .tflite model")
    new.add_argument("--model", required=True, help="the .tflite model")
    new.add_argument("--board", action="append", required=True, help="board id (repeatable)")
    new.add_argument("--output", required=True, help="folder to create")
    new.add_argument("--force", action="store_true",
                     help="replace a non-empty output folder, and generate even if the model does not fit")
    new.add_argument("--optimize", choices=OPTIMIZE, default="speed", help=OPTIMIZE_HELP)
    new.set_defaults(func=_cmd_new)

    ins = sub.add_parser("inspect", help="describe a model: ops, parameters, MACs, I/O, memory")
    ins.add_argument("model")
    ins.add_argument("--json", action="store_true", help="one JSON object")
    ins.add_argument("--board", action="append", help="check flash/RAM against this board (repeatable); "
                                                       "exit code 7 when it does not fit")
    ins.add_argument("--optimize", choices=OPTIMIZE, default="speed",
                     help="the flash/speed choice the fit check assumes (as for `new`; default speed)")
    ins.set_defaults(func=_cmd_inspect)

    boards = sub.add_parser("boards", help="list the board catalogue")
    boards.add_argument("--json", action="store_true")
    boards.set_defaults(func=_cmd_boards)

    ver = sub.add_parser("verify", help="build, run and check a project env bit-exact against TFLM")
    ver.add_argument("project", help="a generated project folder")
    ver.add_argument("--env", required=True, help="the platformio.ini env to run")
    ver.add_argument("--count", type=int, default=100, help="number of inputs (default 100)")
    ver.add_argument("--seed", type=int, default=1234, help="seed of the random inputs")
    ver.add_argument("--inputs", help="an .npz of inputs instead of random ones: keys in{k}_{i} "
                                      "(sample k, input i; the goldens' convention) or plain arrays")
    ver.add_argument("--port", help="serial port of a real board (a path or a pyserial URL)")
    ver.add_argument("--no-flash", action="store_true",
                     help="test the firmware already on the board (host/emulator: the existing build): no "
                          "build, no upload; its build hash must still be this project's")
    ver.add_argument("--json", help="write the full report (raw outputs included) here")
    ver.add_argument("--save-outputs", help="write inputs, device and TFLM outputs to this .npz")
    ver.add_argument("--junit", help="write a JUnit XML report (one testcase per input) here")
    ver.set_defaults(func=_cmd_verify)

    setup = sub.add_parser("setup", help="seed PlatformIO for offline builds and check the toolchains")
    setup.add_argument("--core-dir", help="microforge's own core dir for host and QEMU builds (default: "
                                          "$MICROFORGE_PIO_CORE or ~/.microforge/platformio); your usual "
                                          "core dir only gets tool-scons if it has none")
    setup.set_defaults(func=_cmd_setup)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MicroforgeError as err:
        print(f"error: {err}", file=sys.stderr)
        if err.hint:
            print(f"fix: {err.hint}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("error: interrupted (Ctrl-C)", file=sys.stderr)
        print("fix: run the command again; `microforge new` leaves no partial project behind", file=sys.stderr)
        return 130
    except OSError as exc:  # a file we read or write: name the file and the reason, not a traceback
        err = WriteError.from_os_error(exc, exc.filename or "")
        print(f"error: {exc.strerror or exc} ({exc.filename or 'no file name'})", file=sys.stderr)
        print(f"fix: {err.hint}", file=sys.stderr)
        return err.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug or an input no check caught: a message, not a traceback
        if os.environ.get("MICROFORGE_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        print("fix: check the files named in the command (a damaged model?); MICROFORGE_DEBUG=1 shows the "
              "traceback for a bug report", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
