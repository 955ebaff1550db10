"""The board catalogue: one JSON file per board in boards/catalogue, validated on load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from .errors import BoardError
from .resources import catalogue_dir

KINDS = ("host", "emulator", "hardware")
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
    usb: str | None
    qemu: dict[str, str] | None
    kernels: str

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
    return Board(
        id=raw["id"], name=raw["name"], kind=raw["kind"],
        platformio={k: str(v) for k, v in raw["platformio"].items()},
        port=raw["port"], cpu=raw["cpu"], fpu=raw.get("fpu", ""), cflags=tuple(raw["cflags"]),
        flash_bytes=raw["flash_bytes"], ram_bytes=raw["ram_bytes"], budget_source=raw["budget_source"],
        cycle_counter=raw["cycle_counter"], usb=raw["usb"], qemu=raw["qemu"], kernels=raw["kernels"],
    )


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
