"""arduino/ArduinoCore-mbed as PlatformIO's framework-arduino-mbed package (shared by the
nordicnrf52, raspberrypi and ststm32 platforms)."""

from __future__ import annotations

from pathlib import Path

from . import Package, RepoRef, define_value, link_tree

CORE = RepoRef("arduino/ArduinoCore-mbed", "4.5.0", "platform.json pins framework-arduino-mbed ~4.5.0")
API = RepoRef(
    "arduino/ArduinoCore-API",
    "cd91833d90b4fe50e428021ba5051e2b7ceafc84",
    "4.5.0's extras/package_full.sh clones ArduinoCore-API's default branch at release time (2026-01-07): "
    "its head then was cd91833 (v1.5.2)",
)
FRAMEWORK_DIRS = ("FrameworkArduino", "FrameworkArduinoVariant")


def fill(dest: Path, trees: dict[str, Path]) -> None:
    """The release archive's layout: the core, with ArduinoCore-API's api/ at cores/arduino/api."""
    link_tree(trees[CORE.repo], dest)
    link_tree(trees[API.repo] / "api", dest / "cores" / "arduino" / "api")


PACKAGE = Package("framework-arduino-mbed", "4.5.0", "~4.5.0", "framework", fill,
                  "ArduinoCore-mbed 4.5.0 + ArduinoCore-API api/ at cores/arduino/api")


def main_stack(variant: str) -> object:
    def read(trees: dict[str, Path]) -> dict[str, object]:
        header = trees[CORE.repo] / "variants" / variant / "mbed_config.h"
        value = define_value(header, "MBED_CONF_RTOS_MAIN_THREAD_STACK_SIZE")
        return {"bytes": value, "source": f"variants/{variant}/mbed_config.h MBED_CONF_RTOS_MAIN_THREAD_STACK_SIZE "
                "(conf/mbed_app.json rtos.main-thread-stack-size); the main thread's stack is allocated by the RTOS"}

    return read


def missing_libs(trees: dict[str, Path], variant: str) -> list[str]:
    libs = trees[CORE.repo] / "variants" / variant / "libs"
    return [f"variants/{variant}/libs/{n}" for n in ("libmbed.a",) if not (libs / n).is_file()]
