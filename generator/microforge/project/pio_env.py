"""Run PlatformIO without its registry: a private core dir, seeded once, and a quiet environment.

Facts checked on this machine with platformio==6.2.0 (see ../shared/docs/offline-platformio.md):

* Precedence of the core dir: when both ``[platformio] core_dir`` in platformio.ini and the
  ``PLATFORMIO_CORE_DIR`` environment variable are set, the environment variable wins
  (``ProjectConfig.get`` replaces the ini value with a non-empty ``sysenvvar``); ``pio project
  config`` and ``pio run`` both use the env var's directory, the ini value is ignored.
  So ``pio_environ()`` fully determines where PlatformIO looks, whatever a project's ini says.
* ``pio project config`` on an ini with ``[env:nano33ble] platform = nordicnrf52, board =
  nano33ble, framework = arduino`` succeeds offline (exit 0, ~0.25 s) with zero network
  ``connect()`` calls under ``pio_environ()`` (strace -f -e trace=connect), even with a fresh,
  unseeded core dir: it only parses the ini and never resolves platforms. Without
  ``PLATFORMIO_SETTING_ENABLE_TELEMETRY=No`` it makes one DNS lookup (telemetry) but still
  succeeds. (``pio run`` on that env goes to the registry; per the shared notes it fails
  after ~60 s. Not re-tried here.)
* A full offline ``pio run`` of the microforge host and qemu-m4 envs under ``pio_environ()``
  with a seeded core dir makes zero ``connect()`` calls.

Seeding strategy for the core package ``tool-scons`` (SCons 4.11.1, which ``pio run`` needs
before anything else and which PlatformIO's unreachable registry would otherwise supply):
if the running Python can already import SCons 4.11.1 it is copied (offline, fast); otherwise
``pip install --no-deps --target`` fetches ``scons==4.11.1`` from PyPI (~1 s; needs PyPI).
Install microforge's dev extra (which pins ``scons==4.11.1``) to seed fully offline.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SCONS_VERSION = "4.11.1"
TOOL_SCONS_VERSION = "4.41101.0"  # PlatformIO's spelling of SCons 4.11.1
PLATFORMIO_VERSION = "6.2.0"

_SCONS_LAUNCHER = '''\
"""tool-scons launcher written by microforge (SCons {version} from PyPI)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from SCons.Script.Main import main  # noqa: E402

if __name__ == "__main__":
    main()
'''


@dataclass(frozen=True)
class MissingTool:
    """A build or run tool that is not available, and the Debian package that provides it."""

    tool: str
    debian_package: str
    needed_for: str


def default_core_dir() -> Path:
    """``$MICROFORGE_PIO_CORE`` if set, else ``~/.microforge/platformio``."""
    env = os.environ.get("MICROFORGE_PIO_CORE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".microforge" / "platformio"


def usual_core_dir() -> Path:
    """The core dir a plain ``pio`` uses: ``$PLATFORMIO_CORE_DIR``, else ``~/.platformio``.

    Real boards build there, with the toolchains and frameworks the user already has; microforge
    never moves it. ``microforge setup`` only adds ``tool-scons`` to it when it has none, so that
    ``pio run`` of a host or QEMU env works offline (online, PlatformIO installs the same package).
    """
    env = os.environ.get("PLATFORMIO_CORE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".platformio"


def installed_platformio_version() -> str:
    """Version of the platformio distribution in the running Python (pinned 6.2.0)."""
    try:
        return importlib.metadata.version("platformio")
    except importlib.metadata.PackageNotFoundError:
        return PLATFORMIO_VERSION


def _scons_is_seeded(pkg_dir: Path) -> bool:
    try:
        piopm = json.loads((pkg_dir / ".piopm").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        piopm.get("version") == TOOL_SCONS_VERSION
        and (pkg_dir / "SCons" / "Script" / "Main.py").is_file()
        and (pkg_dir / "scons.py").is_file()
        and (pkg_dir / "package.json").is_file()
    )


def _local_scons_dir() -> Path | None:
    """The SCons package of the running Python when it is exactly SCons 4.11.1."""
    spec = importlib.util.find_spec("SCons")
    if spec is None or not spec.submodule_search_locations:
        return None
    try:
        if importlib.metadata.version("scons") != SCONS_VERSION:
            return None
    except importlib.metadata.PackageNotFoundError:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _fill_scons(target: Path) -> None:
    local = _local_scons_dir()
    if local is not None:
        shutil.copytree(local, target / "SCons", ignore=shutil.ignore_patterns("__pycache__"))
        return
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-compile",
            "--target",
            str(target),
            f"scons=={SCONS_VERSION}",
        ],
        check=True,
    )


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _seed_appstate(core_dir: Path) -> None:
    """Telemetry off, no upgrade check, ``last_version`` = the installed platformio."""
    path = core_dir / "appstate.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict):
            state = {}
    except (OSError, ValueError):
        state = {}
    state["last_version"] = installed_platformio_version()
    settings = state.setdefault("settings", {})
    settings["enable_telemetry"] = False
    settings["check_platformio_interval"] = 3650
    last_check = state.setdefault("last_check", {})
    last_check.setdefault("platformio_upgrade", int(time.time()))
    _write_json(path, state)


def seed_core_dir(core_dir: Path, quiet: bool = True) -> None:
    """Make ``core_dir`` usable offline: ``packages/tool-scons`` and (``quiet``) an ``appstate.json``
    with telemetry and upgrade checks off.

    Idempotent: an existing complete tool-scons seed is left alone; appstate.json is
    rewritten only in the keys above. ``quiet=False`` (the user's usual core dir) leaves the
    user's settings alone and adds tool-scons only where no version of it is installed.
    """
    core_dir = Path(core_dir)
    packages = core_dir / "packages"
    packages.mkdir(parents=True, exist_ok=True)
    pkg_dir = packages / "tool-scons"
    if not quiet and (pkg_dir / "package.json").is_file():
        return  # the user's own tool-scons, whatever its version
    if not _scons_is_seeded(pkg_dir):
        staging = Path(tempfile.mkdtemp(prefix=".tool-scons-", dir=packages))
        try:
            _fill_scons(staging)
            (staging / "scons.py").write_text(_SCONS_LAUNCHER.format(version=SCONS_VERSION), encoding="utf-8")
            _write_json(
                staging / "package.json",
                {
                    "name": "tool-scons",
                    "version": TOOL_SCONS_VERSION,
                    "description": f"SCons {SCONS_VERSION} from PyPI, seeded by microforge",
                },
            )
            _write_json(
                staging / ".piopm",
                {
                    "type": "tool",
                    "name": "tool-scons",
                    "version": TOOL_SCONS_VERSION,
                    "spec": {
                        "owner": "platformio",
                        "id": None,
                        "name": "tool-scons",
                        "requirements": None,
                        "uri": None,
                    },
                },
            )
            if pkg_dir.exists():
                shutil.rmtree(pkg_dir)
            staging.rename(pkg_dir)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    if quiet:
        _seed_appstate(core_dir)


def pio_environ(core_dir: Path) -> dict[str, str]:
    """``os.environ`` plus the variables that keep PlatformIO in ``core_dir`` and off the network."""
    env = dict(os.environ)
    env.update(
        {
            "PLATFORMIO_CORE_DIR": str(Path(core_dir).resolve()),
            "PLATFORMIO_SETTING_ENABLE_TELEMETRY": "No",
            "PLATFORMIO_SETTING_CHECK_PLATFORMIO_INTERVAL": "3650",
            "PLATFORMIO_DISABLE_UPGRADE_CHECK": "true",
            "PLATFORMIO_DISABLE_PROGRESSBAR": "true",
        }
    )
    return env


def _compiler_finds(compiler: str, file_name: str, flags: list[str]) -> bool:
    """True when ``compiler -print-file-name=file_name`` resolves to an existing file."""
    try:
        out = subprocess.run(
            [compiler, *flags, f"-print-file-name={file_name}"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return os.path.isabs(out) and os.path.isfile(out)


_M4F_FLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]


def check_tools() -> list[MissingTool]:
    """The tools microforge's builds and runs need that are missing, with their Debian package."""
    missing: list[MissingTool] = []
    for tool, package, why in (
        ("gcc", "gcc", "host builds"),
        ("g++", "g++", "host builds"),
        ("qemu-system-arm", "qemu-system-arm", "running QEMU boards"),
    ):
        if shutil.which(tool) is None:
            missing.append(MissingTool(tool, package, why))

    arm_tools = ("arm-none-eabi-gcc", "arm-none-eabi-g++", "arm-none-eabi-nm")
    absent = [t for t in arm_tools if shutil.which(t) is None]
    for tool in absent:
        missing.append(MissingTool(tool, "gcc-arm-none-eabi", "Cortex-M builds"))
    if not absent:
        if not _compiler_finds("arm-none-eabi-gcc", "libc_nano.a", _M4F_FLAGS):
            missing.append(MissingTool("newlib (libc_nano.a)", "libnewlib-arm-none-eabi", "Cortex-M builds"))
        if not _compiler_finds("arm-none-eabi-g++", "libstdc++_nano.a", _M4F_FLAGS):
            missing.append(
                MissingTool(
                    "libstdc++ for newlib (libstdc++_nano.a)",
                    "libstdc++-arm-none-eabi-newlib",
                    "Cortex-M C++ builds",
                )
            )
    return missing
