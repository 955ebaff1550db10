"""platformio/platform-raspberrypi: pico and nanorp2040connect on the Arduino mbed core."""

from __future__ import annotations

from . import BoardSpec, PlatformSpec, RepoRef, mbed_core, toolchain, uploader_stub

PLATFORM = PlatformSpec(
    "raspberrypi", RepoRef("platformio/platform-raspberrypi", "v1.19.0", "latest release (= master)"))


def _board(board_id: str, variant: str) -> BoardSpec:
    return BoardSpec(
        board_id, PLATFORM, [PLATFORM.source, mbed_core.CORE, mbed_core.API],
        [mbed_core.PACKAGE,
         toolchain("toolchain-gccarmnoneeabi", "1.90201.0", "~1.90201.0 (platform.json)"),
         uploader_stub("tool-rp2040tools", "1.0.2", "~1.0.2")],
        framework_dirs=mbed_core.FRAMEWORK_DIRS,
        main_stack=mbed_core.main_stack(variant),
    )


BOARDS = {
    "pico": _board("pico", "RASPBERRY_PI_PICO"),
    "nanorp2040connect": _board("nanorp2040connect", "NANO_RP2040_CONNECT"),
}
