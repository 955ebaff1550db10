"""platformio/platform-teensy: teensy41 on PaulStoffregen/cores (teensy4)."""

from __future__ import annotations

import re
from pathlib import Path

from . import BoardSpec, Package, PlatformSpec, RepoRef, link_tree, toolchain, uploader_stub

PLATFORM = PlatformSpec("teensy", RepoRef("platformio/platform-teensy", "v5.2.0", "latest release (= master)"))
CORES = RepoRef("PaulStoffregen/cores", "1.62",
                "platform.json: framework-arduinoteensy ~1.162.0 (Teensyduino 1.62; the cores repo's tag 1.62)")


def _fill(dest: Path, trees: dict[str, Path]) -> None:
    """PlatformIO's framework-arduinoteensy layout: cores/<core>; Teensyduino's libraries are not
    mirrored (an empty libraries/: the KWS project uses none)."""
    link_tree(trees[CORES.repo], dest / "cores")
    (dest / "libraries").mkdir(parents=True, exist_ok=True)


def _stack(trees: dict[str, Path]) -> dict[str, object]:
    ld = trees[CORES.repo] / "teensy4" / "imxrt1062_t41.ld"
    text = ld.read_text(errors="replace") if ld.is_file() else ""
    m = re.search(r"_estack\s*=\s*([^;]+);", text)
    return {"bytes": None, "source": "teensy4/imxrt1062_t41.ld: no fixed main stack; _estack = "
            f"{m.group(1).strip() if m else '?'}: the stack is what DTCM (RAM1) leaves after .data/.bss "
            "(and the .rodata the script copies there)"}


BOARDS = {
    "teensy41": BoardSpec(
        "teensy41", PLATFORM, [PLATFORM.source, CORES],
        [Package("framework-arduinoteensy", "1.162.0", "~1.162.0", "framework", _fill,
                 "PaulStoffregen/cores tag 1.62 at cores/; libraries/ empty (Teensyduino's libraries not mirrored)"),
         toolchain("toolchain-gccarmnoneeabi-teensy", "1.150201.0", "~1.150201.0 (platform.json)"),
         uploader_stub("tool-teensy", "1.162.0", "<2 (platform.py makes it required for teensy4 boards)")],
        framework_dirs=("FrameworkArduino",),
        main_stack=_stack,
    ),
}
