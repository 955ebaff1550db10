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
    math = dest / "cores" / "teensy4" / f"lib{MATH_LIB}.a"
    if not math.exists():
        math.write_bytes(b"!<arch>\n")  # an empty archive: see MATH_NOTE


MATH_LIB = "arm_cortexM7lfsp_math"
MATH_NOTE = (
    f"the builder links -l{MATH_LIB} (CMSIS-DSP, prebuilt; shipped in Teensyduino's installer and PlatformIO's "
    "framework-arduinoteensy, not in the PaulStoffregen/cores repository): an EMPTY archive of that name stands in. "
    "A static library only contributes members that resolve undefined symbols, so a successful link proves "
    "nothing needed it and the image is the one the real library would give"
)


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
        notes=[MATH_NOTE],
    ),
}
