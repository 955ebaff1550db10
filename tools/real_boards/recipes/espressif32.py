"""platformio/platform-espressif32: esp32s3 (not buildable here)."""

from __future__ import annotations

from . import BoardSpec, PlatformSpec, RepoRef

PLATFORM = PlatformSpec(
    "espressif32", RepoRef("platformio/platform-espressif32", "v6.13.0", "latest release (= master)"))

BOARDS = {
    "esp32s3": BoardSpec(
        "esp32s3", PLATFORM, [PLATFORM.source], [],
        not_checked=(
            "no Xtensa compiler on this machine (toolchain-xtensa-esp32s3 8.4.0+2021r2-patch5 comes only from "
            "PlatformIO's registry / Espressif), and espressif/arduino-esp32 (framework-arduinoespressif32 "
            "~3.20017.0) is too large to mirror (3.2 GB against the 500 MB limit). `pio run` is still attempted "
            "to record PlatformIO's own error"
        ),
    ),
}
