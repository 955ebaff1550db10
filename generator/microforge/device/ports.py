"""Which serial port belongs to which real-board env.

A real-board env gets its port from the command line or, when none is given for it, from its USB
VID:PID (``custom_microforge_usb`` in platformio.ini, one or more ``VID:PID`` separated by spaces
or commas)::

    --port=/dev/ttyACM0                  # pytest-embedded's option: the one board under test
    --port=nano33ble=/dev/ttyACM0        # the same, naming the env
    --mf-port nano33ble=/dev/ttyACM0 --mf-port nano33ble_rev2=/dev/ttyACM1   # a port per env

``--port`` belongs to pytest-embedded, whose autouse fixtures split it on ``|`` and require as
many items as ``--count`` (its multi-DUT form): one value only, unless a test of yours uses that
form. Its ``|`` items are read here too, each ``PORT`` or ``ENV=PORT``.

Boards that share a VID:PID (the Nano 33 BLE and its Rev2 both enumerate as 2341:805A) cannot be
told apart over USB, and flashing one with the other's firmware gives results under the wrong
name. So nothing is guessed: a port that two selected envs would auto-detect, two ports that
match one env, or a bare port that fits several envs is an error that names the envs and the
ports and says how to pass ``--port=ENV=PORT`` / ``--mf-port ENV=PORT``.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from microforge.errors import ToolError

if TYPE_CHECKING:
    from microforge.device.envs import EnvSpec

_ENV_ITEM = re.compile(r"([\w.+-]+)=(.*)")  # "nano33ble=/dev/ttyACM0"; a URL's head has "://"


class PortError(ToolError):
    """A ``--port`` value that names no env, or a port that cannot be given to one env only."""


@dataclass(frozen=True)
class UsbPort:
    """A serial port this machine lists, with its USB ``VID:PID`` (upper-case hex, "" if none)."""

    device: str
    usb: str = ""


def usb_ports() -> list[UsbPort]:
    """The serial ports pyserial lists (``serial.tools.list_ports.comports``), sorted by device."""
    try:
        from serial.tools import list_ports
    except ImportError:
        return []
    found = []
    for p in list_ports.comports():
        usb = f"{p.vid:04X}:{p.pid:04X}" if p.vid is not None and p.pid is not None else ""
        found.append(UsbPort(str(p.device), usb))
    return sorted(found, key=lambda p: p.device)


def parse_usb_ids(text: str) -> tuple[str, ...]:
    """``"2341:805a, 2341:005A"`` -> ``("2341:805A", "2341:005A")``; malformed items are dropped."""
    ids = []
    for item in text.replace(",", " ").split():
        vid, _, pid = item.partition(":")
        try:
            ids.append(f"{int(vid, 16):04X}:{int(pid, 16):04X}")
        except ValueError:
            continue
    return tuple(ids)


def detect_port(usb: str, ports: Sequence[UsbPort] | None = None) -> str | None:
    """The serial port whose USB VID:PID is one of ``usb`` (e.g. ``2341:805A``), else None.

    Raises PortError when several ports match: which one is the board is not guessed.
    """
    ids = parse_usb_ids(usb)
    if not ids:
        return None
    found = [p for p in (usb_ports() if ports is None else ports) if p.usb in ids]
    if len(found) > 1:
        raise PortError(f"{len(found)} serial ports match USB {' '.join(ids)}: "
                        f"{', '.join(f'{p.device} ({p.usb})' for p in found)}; cannot tell which is the board",
                        hint="pass the board's port explicitly (--port=...), or unplug the other boards")
    return found[0].device if found else None


@dataclass(frozen=True)
class PortOption:
    """``--port`` split into ``ENV=PORT`` items and bare ports."""

    by_env: dict[str, str] = field(default_factory=dict)
    bare: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.by_env or self.bare)


def parse_port_option(value: str | None, envs: Sequence[EnvSpec], mf_ports: Sequence[str] = ()) -> PortOption:
    """Reads ``--port`` (``|``-separated items, each ``PORT`` or ``ENV=PORT``) and the
    ``--mf-port ENV=PORT`` items.

    An item is ``ENV=PORT`` when the text before its first ``=`` looks like an env name (a port
    path or URL has ``/`` or ``:`` there); that env must be a real-board env of the project, and
    named once.
    """
    names = {e.name: e for e in envs}
    hardware = ", ".join(e.name for e in envs if e.kind == "hardware") or "none"
    by_env: dict[str, str] = {}
    bare: list[str] = []
    items = [("--port", s.strip()) for s in (value or "").split("|")] + [("--mf-port", s.strip()) for s in mf_ports]
    for flag, item in items:
        if not item:
            continue
        match = _ENV_ITEM.fullmatch(item)
        if match is None:
            if flag == "--mf-port":
                raise PortError(f"--mf-port {item}: expected ENV=PORT", hint=f"e.g. --mf-port nano33ble={item}")
            bare.append(item)
            continue
        name, port = match.group(1), match.group(2).strip()
        if name not in names:
            raise PortError(f"{flag} names env '{name}', but platformio.ini has no [env:{name}]",
                            hint=f"real-board envs: {hardware}")
        if names[name].kind != "hardware":
            raise PortError(f"{flag} gives a port to env '{name}', which is not a real board "
                            f"(custom_microforge_kind = {names[name].kind or 'unset'})",
                            hint=f"real-board envs: {hardware}")
        if not port:
            raise PortError(f"{flag} item '{item}' has no port after '='", hint=f"e.g. {flag}={name}=/dev/ttyACM0")
        if name in by_env:
            raise PortError(f"env '{name}' is given two ports: {by_env[name]} and {port}")
        by_env[name] = port
    return PortOption(by_env, tuple(bare))


@dataclass(frozen=True)
class PortChoice:
    """The outcome for one real-board env: a port (and how it was found), none, or an error."""

    port: str | None = None
    how: str = ""  # "--port", "USB 2341:805A"
    error: str = ""


def _same(a: str, b: str) -> bool:
    return a == b or (a.startswith("/") and b.startswith("/") and os.path.realpath(a) == os.path.realpath(b))


def _listed(port: str, ports: Sequence[UsbPort]) -> UsbPort | None:
    return next((p for p in ports if _same(p.device, port)), None)


def _names(envs: Iterable[str]) -> str:
    names = list(envs)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def port_hint(pairs: Sequence[tuple[str, str]]) -> str:
    """How to give each env its port: ``--port=a=/dev/x``, or ``--mf-port a=/dev/x --mf-port b=/dev/y``."""
    if len(pairs) == 1:
        return f"--port={shlex.quote(f'{pairs[0][0]}={pairs[0][1]}')}"
    return " ".join(f"--mf-port {shlex.quote(f'{env}={port}')}" for env, port in pairs)


def resolve_ports(envs: Sequence[EnvSpec], option: PortOption, ports: Sequence[UsbPort]) -> dict[str, PortChoice]:
    """The port of each real-board env in ``envs`` (the selected ones), never a guessed one.

    1. ``ENV=PORT`` gives that env its port.
    2. A bare port goes to the only selected env left without one when there is just one such env
       and one bare port; otherwise to the one env whose VID:PID the port has. A bare port that
       fits several envs, or that this machine does not list, is an error for the envs it could be for.
    3. Every other env is auto-detected by its VID:PID among the ports not given to an env; two
       matching ports, or one port that two envs would take, is an error for those envs.
    """
    hardware = [e for e in envs if e.kind == "hardware"]
    choice: dict[str, PortChoice] = {}
    for env in hardware:
        if env.name in option.by_env:
            choice[env.name] = PortChoice(option.by_env[env.name], "--port")
    taken = list(option.by_env.values())  # also ports named for envs that are not selected
    open_envs = [e for e in hardware if e.name not in choice]
    if option.bare and open_envs:
        if len(option.bare) == 1 and len(open_envs) == 1:
            choice[open_envs[0].name] = PortChoice(option.bare[0], "--port")
            taken.append(option.bare[0])
        else:
            _assign_bare(open_envs, option.bare, ports, choice, taken)
    auto = [e for e in hardware if e.name not in choice]
    candidates = {e.name: [p for p in ports if p.usb and p.usb in e.usb_ids
                           and not any(_same(p.device, t) for t in taken)] for e in auto}
    for env in auto:
        found = candidates[env.name]
        if not found:
            choice[env.name] = PortChoice()
            continue
        if len(found) > 1:
            listing = ", ".join(f"{p.device} ({p.usb})" for p in found)
            choice[env.name] = PortChoice(error=(
                f"env '{env.name}': {len(found)} serial ports match its USB VID:PID "
                f"({' '.join(env.usb_ids)}): {listing}. microforge does not guess which board to flash: "
                f"pass the port per env, e.g. {port_hint([(env.name, found[0].device)])}, "
                f"or unplug the other boards"))
            continue
        port = found[0]
        rivals = [e.name for e in auto if e is not env and any(p.device == port.device for p in candidates[e.name])]
        if rivals:
            both = [env.name, *rivals]
            choice[env.name] = PortChoice(error=(
                f"port {port.device} (USB {port.usb}) would be auto-detected by envs {_names(both)}, "
                f"which share that USB VID:PID: microforge does not guess which firmware to flash. "
                f"Pass the port per env, e.g. {port_hint([(env.name, port.device)])} "
                f"(several boards: {port_hint([(n, f'PORT{i + 1}') for i, n in enumerate(both)])}), "
                f"or select one env with -m {env.name}"))
            continue
        choice[env.name] = PortChoice(port.device, f"USB {port.usb}")
    return choice


def _assign_bare(open_envs: Sequence[EnvSpec], bare: Sequence[str], ports: Sequence[UsbPort],
                 choice: dict[str, PortChoice], taken: list[str]) -> None:
    """Bare ports among several envs (or several bare ports): each goes by its VID:PID or not at all."""
    names = [e.name for e in open_envs]
    for port in bare:
        listed = _listed(port, ports)
        fits = [e.name for e in open_envs if listed is not None and listed.usb and listed.usb in e.usb_ids]
        usb = listed.usb if listed is not None else ""
        if len(fits) == 1 and fits[0] not in choice:
            choice[fits[0]] = PortChoice(port, f"--port, USB {usb}")
            taken.append(port)
            continue
        if len(fits) == 1:  # a second bare port for the same env
            first = choice[fits[0]].port or ""
            error = (f"--port gives two ports that both match env '{fits[0]}' (USB {usb}): {first} and "
                     f"{port}. Say which board is which: {port_hint([(fits[0], first)])}")
            choice[fits[0]] = PortChoice(error=error)
            continue
        if fits:
            why = f"--port={port} (USB {usb}) fits envs {_names(fits)}, which share that VID:PID"
        elif listed is None:
            why = f"--port={port} is not a USB port this machine lists, and envs {_names(names)} are selected"
            fits = names
        else:
            why = f"--port={port} (USB {usb or 'unknown'}) matches the VID:PID of none of envs {_names(names)}"
            fits = names
        error = (f"{why}: cannot tell which env it is for, and microforge does not guess which firmware to "
                 f"flash. Name the env: {port_hint([(fits[0], port)])}, or select one env with -m {fits[0]}")
        for name in fits:
            choice[name] = PortChoice(error=error)
