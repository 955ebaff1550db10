"""The `microforge` command: parses arguments, calls the library, reports. No logic of its own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__
from .errors import MicroforgeError


def _cmd_new(args: argparse.Namespace) -> int:
    from .scaffold import generate

    out = generate(Path(args.model), args.board, Path(args.output), force=args.force)
    print(f"created {out}")
    print(f"next: cd {out} && pio run -e {args.board[0]} && pytest")
    return 0


def _cmd_inspect(args: argparse.Namespace) -> int:
    from .analysis import format_summary, summarize
    from .model import read_model
    from .plan import plan_memory

    model = read_model(args.model)
    summary = summarize(model)
    plan = plan_memory(model)
    summary["memory"] = {"activation_bytes": plan.activation_bytes, "peak_live_lower_bound": plan.lower_bound}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
        print(f"activations {plan.activation_bytes:,} B planned (peak-live lower bound {plan.lower_bound:,} B)")
    return 0


def _cmd_boards(args: argparse.Namespace) -> int:
    from .boards import all_boards

    boards = all_boards()
    if args.json:
        print(json.dumps({b.id: {"name": b.name, "kind": b.kind, "flash_bytes": b.flash_bytes,
                                 "ram_bytes": b.ram_bytes, "platformio": b.platformio}
                          for b in boards.values()}, indent=2))
        return 0

    def kb(n: int | None) -> str:
        return "-" if n is None else f"{n // 1024} KB"

    print(f"{'id':<12} {'kind':<9} {'flash':>8} {'ram':>8}  name")
    for b in boards.values():
        print(f"{b.id:<12} {b.kind:<9} {kb(b.flash_bytes):>8} {kb(b.ram_bytes):>8}  {b.name}")
    return 0


def _cmd_setup(args: argparse.Namespace) -> int:
    from . import pio_env

    core = Path(args.core_dir) if args.core_dir else pio_env.default_core_dir()
    missing = pio_env.check_tools()
    pio_env.seed_core_dir(core)
    print(f"PlatformIO core dir seeded for offline use: {core}")
    if missing:
        for tool in missing:
            print(f"missing: {tool}", file=sys.stderr)
        packages = sorted({t.package for t in missing})
        raise MicroforgeError(
            "some build tools are missing",
            f"install them: sudo apt-get install {' '.join(packages)}",
        )
    print("toolchains found: g++, arm-none-eabi-gcc, qemu-system-arm")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from .verify import format_report, verify

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            bar = "#" * (30 * done // max(total, 1))
            print(f"\r  [{bar:<30}] {done}/{total}", end="" if done < total else "\n",
                  file=sys.stderr, flush=True)

    print(f"building and starting env '{args.env}' of {args.project} ...", flush=True)
    report = verify(Path(args.project), args.env, count=args.count, seed=args.seed,
                    inputs=Path(args.inputs) if args.inputs else None, port=args.port,
                    progress=progress)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report.as_dict(), indent=2))
    return 0 if report.ok else 10


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="microforge", description=__doc__)
    p.add_argument("--version", action="version", version=f"microforge {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    new = sub.add_parser("new", help="generate a PlatformIO project for a .tflite model")
    new.add_argument("--model", required=True, help="the .tflite model")
    new.add_argument("--board", action="append", required=True, help="board id (repeatable)")
    new.add_argument("--output", required=True, help="folder to create")
    new.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    new.set_defaults(func=_cmd_new)

    ins = sub.add_parser("inspect", help="describe a model: ops, parameters, MACs, I/O, memory")
    ins.add_argument("model")
    ins.add_argument("--json", action="store_true", help="one JSON object")
    ins.set_defaults(func=_cmd_inspect)

    boards = sub.add_parser("boards", help="list the board catalogue")
    boards.add_argument("--json", action="store_true")
    boards.set_defaults(func=_cmd_boards)

    ver = sub.add_parser("verify", help="build, run and check a project env bit-exact against TFLM")
    ver.add_argument("project", help="a generated project folder")
    ver.add_argument("--env", required=True, help="the platformio.ini env to run")
    ver.add_argument("--count", type=int, default=100, help="number of inputs (default 100)")
    ver.add_argument("--seed", type=int, default=1234, help="seed of the random inputs")
    ver.add_argument("--inputs", help="an .npz of inputs to use instead of random ones")
    ver.add_argument("--port", help="serial port of a real board")
    ver.add_argument("--json", help="write the full report (raw outputs included) here")
    ver.set_defaults(func=_cmd_verify)

    setup = sub.add_parser("setup", help="seed PlatformIO for offline builds and check the toolchains")
    setup.add_argument("--core-dir", help="PlatformIO core dir (default: $MICROFORGE_PIO_CORE or "
                                          "~/.microforge/platformio)")
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
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
