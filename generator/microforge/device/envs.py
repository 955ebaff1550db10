"""What the harness needs to know about a generated project: its envs and its model."""

from __future__ import annotations

import configparser
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from microforge.device.ports import detect_port, parse_usb_ids

__all__ = ["KINDS", "EnvSpec", "detect_port", "model_path", "read_envs"]

KINDS = ("host", "emulator", "hardware")


@dataclass(frozen=True)
class EnvSpec:
    """One ``[env:<name>]`` of platformio.ini, as the harness sees it."""

    name: str
    kind: str  # host | emulator | hardware | "" (not a microforge env)
    qemu_machine: str = ""
    qemu_cpu: str = ""
    usb: str = ""  # custom_microforge_usb: a real board's "VID:PID" (several: space or comma separated)

    def __str__(self) -> str:
        return self.name

    @property
    def usb_ids(self) -> tuple[str, ...]:
        """The board's USB ids, normalized (``("2341:805A",)``); empty if unknown."""
        return parse_usb_ids(self.usb)

    def skip_reason(self, port: str | None, port_option: str = "--port=<serial port>") -> str | None:
        """None when the env can run here, else why not (shown as the skip reason).

        ``port_option``: how the caller takes a board's port (the pytest plugin: ``--port=ENV=PORT``).
        """
        if self.kind == "host":
            return None
        if self.kind == "emulator":
            if not (self.qemu_machine and self.qemu_cpu):
                return (f"env '{self.name}': emulator env without custom_microforge_qemu_machine "
                        "and custom_microforge_qemu_cpu")
            if shutil.which("qemu-system-arm") is None:
                return (f"env '{self.name}' needs qemu-system-arm, which is not installed "
                        "(apt-get install qemu-system-arm)")
            if shutil.which("arm-none-eabi-gcc") is None:
                return (f"env '{self.name}' needs arm-none-eabi-gcc, which is not installed "
                        "(apt-get install gcc-arm-none-eabi libnewlib-arm-none-eabi "
                        "libstdc++-arm-none-eabi-newlib)")
            return None
        if self.kind == "hardware":
            if port:
                return None
            if not self.usb_ids:
                return f"env '{self.name}' is a real board without custom_microforge_usb: pass {port_option}"
            return (f"env '{self.name}' is a real board and no serial port has its USB VID:PID "
                    f"({' '.join(self.usb_ids)}): plug it in, or pass {port_option}")
        return f"env '{self.name}' has no custom_microforge_kind (host, emulator or hardware)"


def read_envs(project: Path) -> list[EnvSpec]:
    """The envs of ``project/platformio.ini`` in file order ([env] and ``extends`` merged)."""
    ini = project / "platformio.ini"
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    if not parser.read(ini, encoding="utf-8"):
        return []
    base = dict(parser["env"]) if parser.has_section("env") else {}

    def options(section: str, depth: int = 0) -> dict[str, str]:
        merged: dict[str, str] = {}
        own = dict(parser[section])
        for parent in own.get("extends", "").replace(",", " ").split():
            if parser.has_section(parent) and depth < 8:
                merged.update(options(parent, depth + 1))
        merged.update(own)
        return merged

    envs = []
    for section in parser.sections():
        if not section.startswith("env:"):
            continue
        opts = {**base, **options(section)}
        envs.append(EnvSpec(
            name=section[4:],
            kind=opts.get("custom_microforge_kind", "").strip(),
            qemu_machine=opts.get("custom_microforge_qemu_machine", "").strip(),
            qemu_cpu=opts.get("custom_microforge_qemu_cpu", "").strip(),
            usb=opts.get("custom_microforge_usb", "").strip(),
        ))
    return envs


def model_path(project: Path) -> Path:
    """``model/<model_file>`` from .cookiecutter.json, else the only .tflite under model/."""
    answers = project / ".cookiecutter.json"
    if answers.is_file():
        name = json.loads(answers.read_text(encoding="utf-8")).get("model_file")
        if name:
            return project / "model" / name
    found = sorted((project / "model").glob("*.tflite"))
    if len(found) != 1:
        raise FileNotFoundError(
            f"{project}: cannot tell the model: no model_file in .cookiecutter.json and "
            f"{len(found)} .tflite files under model/")
    return found[0]
