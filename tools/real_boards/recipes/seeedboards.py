"""Seeed-Studio/platform-seeedboards (named by URL, `platform = https://...git`): the XIAO nRF52840 Sense on
Seeed's fork of ArduinoCore-mbed.

For a board id containing ``mbed-nrf52840``, the platform's ``platform_cfg/nrf_cfg.py`` makes the framework
``framework-arduino-mbed`` with the builder ``builder/board_build/nrf/arduino-core-mbed.py``, pins
``toolchain-gccarmnoneeabi ~1.80201.0`` and makes tool-openocd, tool-bossac-nordicnrf52 and tool-adafruit-nrfutil
required; platform.json gives ``framework-arduino-mbed`` as Seeed's archive
``ArduinoCore-mbed-pio-2.9.2.tar.bz2`` (a URL, so PlatformIO finds the installed package by that URL) and never
marks tool-esp_install (a URL too) or tool-sreccat optional.
"""

from __future__ import annotations

from pathlib import Path

from . import (
    STUB_NOTE,
    BoardSpec,
    Package,
    PlatformSpec,
    RepoRef,
    define_value,
    link_tree,
    stub,
    toolchain,
    uploader_stub,
)

PLATFORM_URL = "https://github.com/Seeed-Studio/platform-seeedboards.git"
PLATFORM = PlatformSpec(
    "SeeedStudio",  # platform.json's name
    RepoRef("Seeed-Studio/platform-seeedboards", "c0387a20fdd4c665ee1f1db8e258cec446b0f220",
            "the catalogue names the platform by its git URL (no release: the default branch's head, c0387a2)"),
    uri=PLATFORM_URL,
)
FRAMEWORK_URL = "https://files.seeedstudio.com/arduino/core/mbed/ArduinoCore-mbed-pio-2.9.2.tar.bz2"
CORE = RepoRef(
    "Seeed-Studio/ArduinoCore-mbed", "v2.9.2",
    f"platform.json: framework-arduino-mbed = {FRAMEWORK_URL} (Seeed's archive of its fork at 2.9.2; the archive is "
    "not mirrored, the fork's tag v2.9.2 is: platform.txt version=2.9.2)",
)
API = RepoRef(
    "arduino/ArduinoCore-API", "1.4.0",
    "the fork keeps no api/: its release workflow (.github/workflows/release.yaml) moves the latest ArduinoCore-API "
    "tag's api/ into cores/arduino; v2.9.2 was tagged 2023-06-06, when the latest tag was 1.4.0 (844e4bf)",
    tree="arduino+ArduinoCore-API@1.4.0",  # the nano33ble recipes use ArduinoCore-API at cd91833
)
VARIANT = "SEEED_XIAO_NRF52840_SENSE"


def _fill(dest: Path, trees: dict[str, Path]) -> None:
    """The release archive's layout: the fork, with ArduinoCore-API's api/ at cores/arduino/api."""
    link_tree(trees[CORE.key], dest)
    link_tree(trees[API.key] / "api", dest / "cores" / "arduino" / "api")


def _stack(trees: dict[str, Path]) -> dict[str, object]:
    header = trees[CORE.key] / "variants" / VARIANT / "mbed_config.h"
    return {"bytes": define_value(header, "MBED_CONF_RTOS_MAIN_THREAD_STACK_SIZE"),
            "source": f"variants/{VARIANT}/mbed_config.h MBED_CONF_RTOS_MAIN_THREAD_STACK_SIZE (conf/mbed_app.json "
                      "rtos.main-thread-stack-size); the main thread's stack is allocated by the RTOS"}


def _url_stub(name: str, version: str, url: str) -> Package:
    return Package(name, version, url, "stub", stub,
                   STUB_NOTE + "; its version in platform.json is a URL, recorded in .piopm as PlatformIO would", url)


BOARDS = {
    "xiao_nrf52840_sense": BoardSpec(
        "xiao_nrf52840_sense", PLATFORM, [PLATFORM.source, CORE, API],
        [Package("framework-arduino-mbed", "2.9.2", FRAMEWORK_URL, "framework", _fill,
                 "Seeed-Studio/ArduinoCore-mbed tag v2.9.2 + ArduinoCore-API 1.4.0 api/ at cores/arduino/api",
                 FRAMEWORK_URL),
         toolchain("toolchain-gccarmnoneeabi", "1.80201.0", "~1.80201.0 (platform_cfg/nrf_cfg.py: mbed-nrf52840)"),
         uploader_stub("tool-openocd", "3.1200.0", "~3.1200.0 (nrf_cfg.py: required for mbed-nrf52840)"),
         uploader_stub("tool-bossac-nordicnrf52", "1.10901.0", "~1.10901.0 (nrf_cfg.py: required for mbed-nrf52840)"),
         uploader_stub("tool-adafruit-nrfutil", "1.503.0",
                       "~1.503.0 (nrf_cfg.py: required for mbed-nrf52840; nrf_build.py runs it after the link to "
                       "make the DFU .zip for upload_protocol nrfutil, which the empty stub cannot)"),
         uploader_stub("tool-sreccat", "1.164.0", "~1.164.0 (platform.json: not optional)"),
         _url_stub("tool-esp_install", "5.3.4",
                   "https://files.seeedstudio.com/arduino/platformio/esp_install-v5.3.4.zip")],
        framework_dirs=("FrameworkArduino", "FrameworkArduinoVariant"),
        main_stack=_stack,
        notes=[
            "the env's default target ends in nrf_build.py's PackageDfu (adafruit-nrfutil.py dfu genpkg, for "
            "upload_protocol nrfutil), after firmware.elf and firmware.hex: with the empty tool-adafruit-nrfutil "
            "stub that last step fails, so `pio run` exits non-zero even when the image linked",
        ],
    ),
}
