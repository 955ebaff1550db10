"""Jinja filters of the template (cookiecutter.json `_extensions`): what the board catalogue
(microforge.boards) says about the chosen boards, so the template never guesses from an id."""

from jinja2.ext import Extension
from microforge.boards import get_boards


def board_kinds(boards: str) -> dict[str, str]:
    """'qemu-m4,host,nano33ble' -> each board's catalogue kind (host | emulator | hardware)."""
    ids = [b.strip() for b in str(boards).split(",") if b.strip()]
    return {b.id: b.kind for b in get_boards(ids)}


def hardware_boards(boards: str) -> str:
    """The chosen boards whose kind is `hardware` (real boards), comma-separated, in order."""
    return ",".join(b for b, kind in board_kinds(boards).items() if kind == "hardware")


class BoardKinds(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["board_kinds"] = board_kinds
        environment.filters["hardware_boards"] = hardware_boards
