"""microforge platform builder (SCons script run by `pio run`).

Two toolchains, chosen by the board's `microforge.toolchain`:
  host           system gcc/g++, a native executable `program`
  arm-none-eabi  Debian's gcc-arm-none-eabi + newlib-nano, `firmware.elf` for QEMU

Every board gets `-D MF_PORT_<microforge.port>=1`, plus `-D <name>=1` for each name in
`microforge.defines` (board variants within a port). Cortex-M boards also get the platform's
startup code and linker script, an automatic post-link image check (no heap, no exceptions)
and `checkimage` / `exec` targets. Host boards get an `exec` target too.

Nothing here touches the network or PlatformIO's registry.
"""

import json
import os
import subprocess
import sys

from SCons.Script import Default, DefaultEnvironment  # pylint: disable=import-error

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()
PLATFORM_DIR = platform.get_dir()

mf = board.get("microforge", {})
TOOLCHAIN = mf.get("toolchain", "host")
PORT = mf.get("port")
if PORT:
    env.Append(CPPDEFINES=[(f"MF_PORT_{PORT.upper()}", 1)])
# Board variants within a port (e.g. MF_MPS3_AN547 for the MPS2 port on mps3-an547): startup and port
# code pick their peripheral addresses with these.
for define in mf.get("defines", []):
    env.Append(CPPDEFINES=[(define, 1)])

sys.path.insert(0, os.path.join(PLATFORM_DIR, "builder"))
from imagecheck import forbidden_symbols  # noqa: E402  pylint: disable=wrong-import-position


def _write_run_json(target, source, env):  # pylint: disable=unused-argument
    """Leave the argv that runs the program next to it, for test harnesses."""
    argv = _run_argv(target[0].get_abspath())
    path = os.path.join(env.subst("$BUILD_DIR"), "mf-run.json")
    with open(path, "w", encoding="utf-8") as fp:
        json.dump({"argv": argv, "board": env.subst("$BOARD")}, fp, indent=2)
        fp.write("\n")
    return 0


def _run_argv(prog_path):
    return [a.replace("$PROG", prog_path) for a in env["MF_RUN_ARGV"]]


def _exec_program(target, source, env):  # pylint: disable=unused-argument
    argv = _run_argv(source[0].get_abspath())
    print(" ".join(argv))
    sys.stdout.flush()
    # stdin is inherited from `pio run`, so `... | pio run -t exec` feeds the program.
    return subprocess.call(argv)


def _check_image(target, source, env):  # pylint: disable=unused-argument
    suffix = env.subst("$PROGSUFFIX")
    elf = next(n.get_abspath() for n in list(target) + list(source) if str(n).endswith(suffix))
    found = forbidden_symbols(elf, env.subst("$NM"))
    if not found:
        print(f"Image check: no heap, exception or RTTI symbols in {os.path.basename(elf)}")
        return 0
    sys.stderr.write(
        f"Error: image check failed for {elf}: heap/exception/RTTI symbols present: "
        f"{', '.join(found)}\n"
        "microforge firmware must not allocate, throw or use RTTI (see boards/platform/README.md).\n"
    )
    # Remove the image so the next build relinks and checks again.
    if os.path.isfile(elf):
        os.remove(elf)
    return 1


def _abs_in_platform(path, subdir):
    if os.path.isabs(path):
        return path
    candidate = os.path.join(PLATFORM_DIR, subdir, path)
    if os.path.isfile(candidate):
        return candidate
    return os.path.join(env.subst("$PROJECT_DIR"), path)


if TOOLCHAIN == "host":
    env.Replace(
        AR="ar",
        RANLIB="ranlib",
        CC="gcc",
        CXX="g++",
        NM="nm",
        PROGNAME="program",
        PROGSUFFIX="",
        MF_RUN_ARGV=["$PROG"],
    )
    env.Append(
        CCFLAGS=["-O2", "-g", "-Wall"],
        CFLAGS=["-std=gnu11"],
        CXXFLAGS=["-std=gnu++17", "-fno-rtti", "-fno-exceptions"],
    )
    if sys.platform.startswith("linux"):
        env.Append(LIBS=["m"])

elif TOOLCHAIN == "arm-none-eabi":
    machine_flags = [
        f"-mcpu={board.get('build.cpu')}",
        "-mthumb",
    ]
    if board.get("build.fpu", ""):
        machine_flags.append(f"-mfpu={board.get('build.fpu')}")
    machine_flags.append(f"-mfloat-abi={board.get('build.float_abi', 'soft')}")

    qemu_argv = [
        "qemu-system-arm",
        "-M",
        mf.get("qemu_machine", "mps2-an386"),
        "-cpu",
        mf.get("qemu_cpu", board.get("build.cpu")),
        "-nographic",
        "-monitor",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=6",
        "-kernel",
        "$PROG",
    ]

    env.Replace(
        AR="arm-none-eabi-gcc-ar",
        AS="arm-none-eabi-as",
        CC="arm-none-eabi-gcc",
        CXX="arm-none-eabi-g++",
        GDB="gdb-multiarch",
        NM="arm-none-eabi-nm",
        OBJCOPY="arm-none-eabi-objcopy",
        RANLIB="arm-none-eabi-gcc-ranlib",
        SIZETOOL="arm-none-eabi-size",
        ARFLAGS=["rc"],
        SIZEPROGREGEXP=(
            r"^(?:\.isr_vector|\.text|\.rodata|\.ARM\.extab|\.ARM\.exidx"
            r"|\.preinit_array|\.init_array|\.fini_array|\.data)\s+(\d+).*"
        ),
        SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.heap|\.stack)\s+(\d+).*",
        SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
        SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
        PROGNAME="firmware",
        PROGSUFFIX=".elf",
        LINK="$CXX",
        MF_RUN_ARGV=qemu_argv,
    )
    env.Append(
        ASFLAGS=machine_flags,
        ASPPFLAGS=["-x", "assembler-with-cpp"],
        # -Os: the size a real Cortex-M4 build would use (Arduino's default too), so QEMU
        # instruction counts resemble what runs on hardware. Override per project with
        # build_unflags = -Os / build_flags = -O2.
        CCFLAGS=machine_flags
        + [
            "-Os",
            "-g",
            "-Wall",
            "-ffunction-sections",
            "-fdata-sections",
            "-fno-common",
        ],
        CFLAGS=["-std=gnu11"],
        CXXFLAGS=[
            "-std=gnu++17",
            "-fno-rtti",
            "-fno-exceptions",
            "-fno-threadsafe-statics",
        ],
        LINKFLAGS=machine_flags
        + [
            "-Os",
            "--specs=nano.specs",
            "--specs=nosys.specs",
            "-nostartfiles",
            "-Wl,--gc-sections",
            "-Wl,--no-warn-rwx-segments",
            "-Wl,-Map,${BUILD_DIR}/${PROGNAME}.map",
            f"-Wl,--defsym=__stack_size={int(board.get('build.stack_size', 65536))}",
        ],
        LIBS=["c", "m", "gcc"],
    )
    env.Replace(LDSCRIPT_PATH=_abs_in_platform(board.get("build.ldscript"), "ldscripts"))
    # The platform's startup code: projects only write main (or the runtime's app hooks).
    env.BuildSources(
        os.path.join("$BUILD_DIR", "mf_startup"),
        os.path.join(PLATFORM_DIR, "startup", board.get("build.startup", "cortex-m")),
    )
else:
    sys.stderr.write(f"Error: unknown microforge.toolchain {TOOLCHAIN!r} in board {env.subst('$BOARD')}\n")
    env.Exit(1)

program = env.BuildProgram()
if env.get("LDSCRIPT_PATH"):
    env.Depends(program, "$LDSCRIPT_PATH")  # linker-script edits relink
env.AddPostAction(program, env.VerboseAction(_write_run_json, "Writing $BUILD_DIR/mf-run.json"))

embedded = TOOLCHAIN != "host"
check_enabled = str(board.get("build.mf_checkimage", "yes")).lower() not in ("0", "no", "false")
if embedded and check_enabled:
    env.AddPostAction(
        program,
        env.VerboseAction(_check_image, "Checking $TARGET for heap, exception and RTTI symbols"),
    )

if embedded:
    env.AddPlatformTarget(
        "checkimage",
        program,
        env.VerboseAction(_check_image, "Checking $SOURCE for heap, exception and RTTI symbols"),
        "Check image",
        "Fail if the image defines or references malloc/new/exceptions/unwinding",
    )
else:
    env.AddPlatformTarget(
        "checkimage",
        program,
        env.VerboseAction(
            lambda target, source, env: print("Image check: not applicable to host builds"),
            "Checking $SOURCE",
        ),
        "Check image",
    )

env.AddPlatformTarget(
    "exec",
    program,
    env.VerboseAction(_exec_program, "Executing $SOURCE"),
    "Execute",
    "Run the program (host executable or QEMU) with this terminal's stdin/stdout",
)

if embedded:
    env.AddPlatformTarget(
        "size",
        program,
        env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE"),
        "Program Size",
    )

Default([program])
