"""The board catalogue: one JSON file per board in boards/catalogue, validated on load."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from microforge.errors import BoardError
from microforge.resources import catalogue_dir

KINDS = ("host", "emulator", "hardware")
CYCLE_COUNTERS = ("cycles", "instructions", "none")
# "fast-dsp": the fast int8 kernels for cores with the DSP extension (runtime/src/microforge/kernels/
# fast/config.h turns them on for these CPUs); "reference": the reference kernels only.
KERNEL_SETS = ("reference", "fast-dsp")
PLACES = ("flash", "ram")
# What a real-framework build of the board's env showed (tools/real_boards, docs/boards.md):
# linked, compiled (every source, no link possible offline), or not checked.
CHECKS = ("linked", "compiled", "not checked", "ours")
DSP_CPUS = frozenset({"cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"})
_USB_ID = re.compile(r"^[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}$")
_REQUIRED = ("id", "name", "kind", "platformio", "port", "cpu", "cflags", "flash_bytes", "ram_bytes",
             "budget_source", "cycle_counter", "usb", "qemu", "kernels")


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    kind: str
    platformio: dict[str, str]
    port: str
    cpu: str
    fpu: str
    cflags: tuple[str, ...]
    flash_bytes: int | None
    ram_bytes: int | None
    budget_source: str
    cycle_counter: str
    usb: str | None  # the primary VID:PID (the running sketch's USB serial port)
    qemu: dict[str, str] | None
    kernels: str
    usb_ids: tuple[str, ...] = ()  # every VID:PID the board shows (sketch, bootloader, variants)
    # Where the linked image puts code and read-only data: "flash", or "ram" when the framework's
    # linker script copies them there (Teensy 4.x: .text to ITCM, .rodata to DTCM, both RAM1).
    code_in: str = "flash"
    rodata_in: str = "flash"
    # The main thread's stack when the framework fixes it (ArduinoCore-mbed: 32 KB from the RTOS,
    # inside the framework's own RAM use); None: the stack is ours, counted in the RAM budget.
    main_stack_bytes: int | None = None
    check: str = "not checked"  # one of CHECKS ("ours": host and emulator boards, microforge's own platform)
    check_detail: str = ""      # platform, framework and toolchain versions, or why not checked

    @property
    def local_platform(self) -> bool:
        """Built by microforge's own PlatformIO platform (no registry needed)."""
        return self.platformio.get("platform") == "microforge"


def _load(path: Path) -> Board:
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BoardError(f"board file {path} is not valid JSON: {exc}") from exc
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise BoardError(f"board file {path} lacks {', '.join(missing)}")
    if raw["id"] != path.stem:
        raise BoardError(f"board file {path} declares id {raw['id']!r}; it must match the file name")
    if raw["kind"] not in KINDS:
        raise BoardError(f"board {raw['id']}: kind {raw['kind']!r} is not one of {', '.join(KINDS)}")
    if raw["kind"] == "emulator" and not (raw["qemu"] or {}).get("machine"):
        raise BoardError(f"board {raw['id']}: an emulator needs qemu.machine")
    if not {"platform", "board"} <= set(raw["platformio"]):
        raise BoardError(f"board {raw['id']}: platformio needs platform and board")
    usb_ids = _check_fields(raw)
    return Board(
        id=raw["id"], name=raw["name"], kind=raw["kind"],
        platformio={k: str(v) for k, v in raw["platformio"].items()},
        port=raw["port"], cpu=raw["cpu"], fpu=raw.get("fpu", ""), cflags=tuple(raw["cflags"]),
        flash_bytes=raw["flash_bytes"], ram_bytes=raw["ram_bytes"], budget_source=raw["budget_source"],
        cycle_counter=raw["cycle_counter"], usb=usb_ids[0] if usb_ids else None, qemu=raw["qemu"],
        kernels=raw["kernels"], usb_ids=usb_ids,
        code_in=raw.get("memory", {}).get("code", "flash"), rodata_in=raw.get("memory", {}).get("rodata", "flash"),
        main_stack_bytes=raw.get("main_stack_bytes"),
        check=raw.get("framework_check", {}).get("status", "ours" if raw["platformio"]["platform"] == "microforge"
                                                 else "not checked"),
        check_detail=raw.get("framework_check", {}).get("detail", ""),
    )


def _check_fields(raw: dict) -> tuple[str, ...]:
    """Types and values of the data fields; returns the USB ids (`usb` is null, "VID:PID" or a list)."""
    bid = raw["id"]
    if not isinstance(raw["cflags"], list) or not all(isinstance(f, str) for f in raw["cflags"]):
        raise BoardError(f"board {bid}: cflags must be a list of strings")
    for key in ("flash_bytes", "ram_bytes"):
        value = raw[key]
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            raise BoardError(f"board {bid}: {key} must be a positive integer (bytes free) or null")
    if raw["kind"] != "host" and (raw["flash_bytes"] is None or raw["ram_bytes"] is None):
        raise BoardError(f"board {bid}: a {raw['kind']} board needs flash_bytes and ram_bytes")
    if not str(raw["budget_source"]).strip():
        raise BoardError(f"board {bid}: budget_source must say where the budgets come from")
    if raw["cycle_counter"] not in CYCLE_COUNTERS:
        raise BoardError(f"board {bid}: cycle_counter {raw['cycle_counter']!r} is not one of "
                         f"{', '.join(CYCLE_COUNTERS)}")
    if raw["kernels"] not in KERNEL_SETS:
        raise BoardError(f"board {bid}: kernels {raw['kernels']!r} is not one of {', '.join(KERNEL_SETS)}")
    want = "fast-dsp" if raw["cpu"] in DSP_CPUS else "reference"
    if raw["kernels"] != want:
        raise BoardError(f"board {bid}: kernels must be {want!r} for a {raw['cpu']} (what the runtime builds for it)")
    memory = raw.get("memory", {})
    if not isinstance(memory, dict) or set(memory) - {"code", "rodata"} or set(memory.values()) - set(PLACES):
        raise BoardError(f"board {bid}: memory must map code and/or rodata to one of {', '.join(PLACES)}")
    stack = raw.get("main_stack_bytes")
    if stack is not None and (not isinstance(stack, int) or isinstance(stack, bool) or stack <= 0):
        raise BoardError(f"board {bid}: main_stack_bytes must be a positive integer or null")
    check = raw.get("framework_check", {})
    if check and (check.get("status") not in CHECKS or not str(check.get("detail", "")).strip()):
        raise BoardError(f"board {bid}: framework_check needs a status ({', '.join(CHECKS)}) and a detail")
    usb = raw["usb"]
    ids = [] if usb is None else [usb] if isinstance(usb, str) else usb
    if not isinstance(ids, list) or not all(isinstance(u, str) and _USB_ID.match(u) for u in ids):
        raise BoardError(f"board {bid}: usb must be null, \"VID:PID\" (hex) or a list of them, not {usb!r}")
    return tuple(u.upper() for u in ids)


def all_boards() -> dict[str, Board]:
    return {b.id: b for b in (_load(p) for p in sorted(catalogue_dir().glob("*.json")))}


def get_boards(ids: list[str]) -> list[Board]:
    """Boards by id, in the order given, duplicates dropped; unknown ids list the known ones."""
    known = all_boards()
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise BoardError(
            f"unknown board(s): {', '.join(unknown)}",
            f"known boards: {', '.join(sorted(known))} (see `microforge boards`)",
        )
    return [known[i] for i in dict.fromkeys(ids)]
