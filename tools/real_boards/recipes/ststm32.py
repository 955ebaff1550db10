"""platformio/platform-ststm32: portenta_h7_m7 (Arduino mbed core) and nucleo_l4r5zi (stm32duino)."""

from __future__ import annotations

from pathlib import Path

from . import BoardSpec, Package, PlatformSpec, RepoRef, define_value, link_tree, mbed_core, toolchain, uploader_stub

PLATFORM = PlatformSpec("ststm32", RepoRef("platformio/platform-ststm32", "v19.6.0", "latest release (= master)"))
STM32DUINO = RepoRef("stm32duino/Arduino_Core_STM32", "2.12.0",
                     "platform.json: framework-arduinoststm32 ~4.21200.0 (PlatformIO's spelling of 2.12.0)")
CMSIS = RepoRef("ARM-software/CMSIS_6", "v6.3.0",
                "platform.py: framework-cmsis ~2.60300.0 for stm32duino (CMSIS 6.3.0)")
CMSIS_DSP = RepoRef("ARM-software/CMSIS-DSP", "v1.16.2", "platform.json: framework-cmsis-dsp ~1.16.2")


def _fill_stm32duino(dest: Path, trees: dict[str, Path]) -> None:
    link_tree(trees[STM32DUINO.repo], dest)


def _fill_cmsis(dest: Path, trees: dict[str, Path]) -> None:
    """CMSIS 6 (CMSIS/Core/...) with CMSIS-DSP's Include and PrivateInclude at CMSIS/DSP/: the stm32duino build
    script puts <framework-cmsis>/CMSIS/DSP/Include and .../PrivateInclude on the include path, which CMSIS 6
    no longer holds (an assumption about PlatformIO's package layout, recorded in the log)."""
    link_tree(trees[CMSIS.repo], dest)
    for sub in ("Include", "PrivateInclude"):
        if (trees[CMSIS_DSP.repo] / sub).is_dir():
            link_tree(trees[CMSIS_DSP.repo] / sub, dest / "CMSIS" / "DSP" / sub)


def _fill_dsp(dest: Path, trees: dict[str, Path]) -> None:
    link_tree(trees[CMSIS_DSP.repo], dest)


def _stm32_stack(trees: dict[str, Path]) -> dict[str, object]:
    return {"bytes": None, "source": "stm32duino: no RTOS; the main stack is the top of RAM (the variant's "
            "ldscript reserves _Min_Stack_Size only as a link-time check)"}


def _portenta_stack(trees: dict[str, Path]) -> dict[str, object]:
    header = trees[mbed_core.CORE.repo] / "variants" / "PORTENTA_H7_M7" / "mbed_config.h"
    return {"bytes": define_value(header, "MBED_CONF_RTOS_MAIN_THREAD_STACK_SIZE"),
            "source": "variants/PORTENTA_H7_M7/mbed_config.h MBED_CONF_RTOS_MAIN_THREAD_STACK_SIZE"}


BOARDS = {
    "portenta_h7_m7": BoardSpec(
        "portenta_h7_m7", PLATFORM, [PLATFORM.source, mbed_core.CORE, mbed_core.API],
        [mbed_core.PACKAGE,
         toolchain("toolchain-gccarmnoneeabi", "1.70201.0", ">=1.60301.0,<1.80000.0 (platform.json)"),
         uploader_stub("tool-dfuutil-arduino", "1.11.0", "~1.11.0 (platform.py: required with upload_protocol dfu)")],
        framework_dirs=mbed_core.FRAMEWORK_DIRS,
        main_stack=_portenta_stack,
    ),
    "nucleo_l4r5zi": BoardSpec(
        "nucleo_l4r5zi", PLATFORM, [PLATFORM.source, STM32DUINO, CMSIS, CMSIS_DSP],
        [Package("framework-arduinoststm32", "4.21200.0", "~4.21200.0", "framework", _fill_stm32duino,
                 "stm32duino/Arduino_Core_STM32 tag 2.12.0"),
         Package("framework-cmsis", "2.60300.0", "~2.60300.0", "framework", _fill_cmsis,
                 "ARM-software/CMSIS_6 v6.3.0, plus CMSIS-DSP v1.16.2 Include/PrivateInclude at CMSIS/DSP/"),
         Package("framework-cmsis-dsp", "1.16.2", "~1.16.2", "framework", _fill_dsp, "ARM-software/CMSIS-DSP"),
         toolchain("toolchain-gccarmnoneeabi", "1.120301.0", "~1.120301.0 (platform.py, stm32duino)")],
        framework_dirs=("FrameworkArduino", "FrameworkArduinoVariant", "SrcWrapper", "FrameworkCMSISDSP"),
        main_stack=_stm32_stack,
    ),
}
