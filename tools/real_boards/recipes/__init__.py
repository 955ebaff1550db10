"""What each real PlatformIO platform needs to build a board offline: the platform release, the
framework repositories, and the packages PlatformIO looks for (with versions that satisfy the
platform's requirements). One module per platform; ``BOARDS`` maps catalogue ids to recipes."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_GCC_NOTE = (
    "Debian's arm-none-eabi-gcc (/usr/bin) stands in for PlatformIO's pinned toolchain: the package dir holds "
    "only symlinks to /usr/bin/arm-none-eabi-*, its package.json claims the pinned version"
)


@dataclass(frozen=True)
class RepoRef:
    """A repository at the ref a platform or framework release uses, and why that ref."""

    repo: str  # owner/name
    ref: str
    why: str
    # the working tree's folder (and the trees' key) when a recipe needs a repository at another ref than the
    # one other recipes use: without it both would share <owner>+<name> and the first export would win
    tree: str | None = None

    @property
    def key(self) -> str:
        """What trees are keyed by: owner/name, or ``tree`` when set."""
        return self.tree or self.repo


# a package builder fills the package dir from the checked-out trees (keyed by owner/name)
Filler = Callable[[Path, dict[str, Path]], None]


@dataclass(frozen=True)
class Package:
    """A package PlatformIO looks up in <core>/packages."""

    name: str
    version: str  # written to package.json / .piopm
    requirement: str  # what the platform asks for
    kind: str  # framework | toolchain | stub
    fill: Filler
    note: str = ""
    uri: str | None = None  # the URL the platform gives as the package's version, recorded in .piopm's spec


@dataclass(frozen=True)
class PlatformSpec:
    name: str  # the name in the platform's platform.json
    source: RepoRef
    uri: str | None = None  # the env's `platform = <URL>` when it names the platform by URL (recorded in .piopm)


@dataclass
class BoardSpec:
    """One catalogue board on its real platform."""

    board_id: str  # catalogue id (= the env name in a generated project)
    platform: PlatformSpec
    repos: list[RepoRef]
    packages: list[Package]
    framework_dirs: tuple[str, ...] = ()  # build sub-dirs (under .pio/build/<env>) holding framework objects
    not_checked: str | None = None  # set when `pio run` cannot run here; the reason
    main_stack: Callable[[dict[str, Path]], dict[str, object]] | None = None
    notes: list[str] = field(default_factory=list)


def link_tree(src: Path, dest: Path) -> None:
    """Copies a tree with hard links (fast, no extra space); symlinks stay symlinks."""
    shutil.copytree(src, dest, symlinks=True, copy_function=os.link, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".real-boards-checkout.json"))


def debian_arm_toolchain(dest: Path, _trees: dict[str, Path]) -> None:
    """A toolchain package whose bin/ links to Debian's arm-none-eabi-* programs."""
    bindir = dest / "bin"
    bindir.mkdir(parents=True, exist_ok=True)
    for prog in sorted(Path("/usr/bin").glob("arm-none-eabi-*")):
        link = bindir / prog.name
        if not link.exists():
            link.symlink_to(prog)


def stub(dest: Path, _trees: dict[str, Path]) -> None:
    """An empty package: only for tools PlatformIO insists on installing though the build never runs them."""
    dest.mkdir(parents=True, exist_ok=True)


STUB_NOTE = (
    "empty stub of an upload tool the build never runs: the platform marks it required, and without it `pio run` "
    "stops at 'Tool Manager: Installing platformio/<name>' with HTTPClientError (checked here for tool-sreccat, "
    "tool-rp2040tools, tool-teensy and tool-dfuutil-arduino)"
)


def toolchain(name: str, version: str, requirement: str) -> Package:
    return Package(name, version, requirement, "toolchain", debian_arm_toolchain, DEBIAN_GCC_NOTE)


def uploader_stub(name: str, version: str, requirement: str) -> Package:
    return Package(name, version, requirement, "stub", stub, STUB_NOTE)


def define_value(header: Path, macro: str) -> int | None:
    """The integer a header #defines ``macro`` to, if any."""
    if not header.is_file():
        return None
    m = re.search(rf"#define\s+{re.escape(macro)}\s+\(?\s*(0x[0-9a-fA-F]+|\d+)", header.read_text(errors="replace"))
    return int(m.group(1), 0) if m else None
