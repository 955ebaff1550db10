"""Where the template, runtime and board data live: inside the wheel, or in the checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parents[1]


def _find(name: str) -> Path:
    for base in (_PACKAGE / "_data", _CHECKOUT):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"microforge data folder {name!r} is missing from the installation")


def template_dir() -> Path:
    return _find("cookiecutter-template")


def runtime_dir() -> Path:
    return _find("runtime")


def boards_dir() -> Path:
    return _find("boards")


def catalogue_dir() -> Path:
    return boards_dir() / "catalogue"


def platform_dir() -> Path:
    return boards_dir() / "platform"
