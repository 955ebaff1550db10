"""platformio/platform-nordicnrf52: nano33ble (mbed core, GCC 7.2.1 pinned), bbcmicrobit_v2
(sandeepmistry/arduino-nRF5). The XIAO nRF52840 Sense is on Seeed's own platform (seeedboards.py): this
platform has no XIAO board (xiaoblesense exists only in its unmerged pull request #151)."""

from __future__ import annotations

from pathlib import Path

from . import STUB_NOTE, BoardSpec, Package, PlatformSpec, RepoRef, link_tree, mbed_core, stub, toolchain

PLATFORM = PlatformSpec(
    "nordicnrf52", RepoRef("platformio/platform-nordicnrf52", "v10.11.0", "latest release (= master)"))

NRF5 = RepoRef("sandeepmistry/arduino-nRF5", "0.8.0",
               "platform.json: framework-arduinonordicnrf5 ~1.800.0 (PlatformIO's spelling of 0.8.0)")


def _fill_nrf5(dest: Path, trees: dict[str, Path]) -> None:
    link_tree(trees[NRF5.repo], dest)


SRECCAT = Package("tool-sreccat", "1.164.0", "~1.164.0", "stub", stub,
                  "only merges a SoftDevice hex, never run for these builds; " + STUB_NOTE)


def _nano33ble(board_id: str) -> BoardSpec:
    return BoardSpec(
        board_id, PLATFORM, [PLATFORM.source, mbed_core.CORE, mbed_core.API],
        [mbed_core.PACKAGE,
         toolchain("toolchain-gccarmnoneeabi", "1.70201.0", "~1.70201.0 (platform.py: nano33ble, nicla_sense_me)"),
         SRECCAT],
        framework_dirs=mbed_core.FRAMEWORK_DIRS,
        main_stack=mbed_core.main_stack("ARDUINO_NANO33BLE"),
    )


BOARDS = {
    "nano33ble": _nano33ble("nano33ble"),
    "nano33ble_rev2": _nano33ble("nano33ble_rev2"),
    "microbit_v2": BoardSpec(
        "microbit_v2", PLATFORM, [PLATFORM.source, NRF5],
        [Package("framework-arduinonordicnrf5", "1.800.0", "~1.800.0", "framework", _fill_nrf5,
                 "sandeepmistry/arduino-nRF5 tag 0.8.0"),
         toolchain("toolchain-gccarmnoneeabi", "1.70201.0", ">=1.60301.0,<1.80000.0 (platform.json)"),
         SRECCAT],
        framework_dirs=("FrameworkArduino", "FrameworkArduinoVariant"),
        main_stack=None,
    ),
}
