"""Builds a generated microforge KWS project for each hardware board through the REAL PlatformIO
platform builders and Arduino cores, offline, and logs what compiled and linked.

    .venv/bin/python tools/real_boards/check.py --repos /work/real-repos --out /work/real-check [--board ID ...]

``--repos`` holds working trees named ``<owner>+<name>`` (made from the mirrors by checkout.py,
which this script calls when ``--mirrors`` has the repository). The script makes a fresh
PlatformIO core dir under ``--out``, seeds tool-scons, installs each platform and the packages its
board needs as local packages (Debian's arm-none-eabi-gcc standing in for pinned ARM toolchains),
generates one project with ``microforge new`` for every requested board, and runs the real
``pio run -v -e <board>`` for each. SCons runs with ``-k`` (keep going) so every object that can
compile is compiled even after a failure. Per board it writes ``<out>/logs/<board>.json`` and
``<board>.log``, and ``<out>/summary.md``. An otherwise empty sketch is built too (``baseline``)
to measure what the framework alone takes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the checkout root: tools.real_boards

from microforge.boards import all_boards  # noqa: E402
from microforge.project.pio_env import pio_environ, seed_core_dir  # noqa: E402

from tools.real_boards import checkout as co  # noqa: E402
from tools.real_boards.recipes import (  # noqa: E402
    BoardSpec,
    Package,
    RepoRef,
    espressif32,
    nordicnrf52,
    raspberrypi,
    seeedboards,
    ststm32,
    teensy,
)

ROOT = Path(__file__).resolve().parents[2]
KWS_MODEL = Path("/work/shared/models/mlperf_tiny/kws/kws_ref_model.tflite")
RECIPES: dict[str, BoardSpec] = {}
for _module in (nordicnrf52, raspberrypi, teensy, ststm32, espressif32, seeedboards):
    RECIPES.update(_module.BOARDS)
ORDER = ["nano33ble", "nano33ble_rev2", "pico", "nanorp2040connect", "teensy41", "portenta_h7_m7", "nucleo_l4r5zi",
         "xiao_nrf52840_sense", "microbit_v2", "esp32s3"]

KEEP_GOING_LAUNCHER = '''\
"""tool-scons launcher written by tools/real_boards/check.py: SCons with -k (keep going after a
failed object, so every object that can compile is compiled)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if "-k" not in sys.argv:
    sys.argv.insert(1, "-k")

from SCons.Script.Main import main  # noqa: E402

if __name__ == "__main__":
    main()
'''
ERROR_RE = re.compile(r"^(?P<file>[^\s:][^:]*):(?P<line>\d+):(?:(?P<col>\d+):)? (?:fatal )?error: ")
COMPILERS = re.compile(r"(^|/)([\w.+-]+-)?(gcc|g\+\+|cc|c\+\+|clang|clang\+\+)$")


# ---------------------------------------------------------------------------------------------
# core dir


def _write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _piopm(kind: str, name: str, version: str, spec: dict[str, object] | None = None) -> dict[str, object]:
    return {"type": kind, "name": name, "version": version,
            "spec": spec or {"owner": "platformio", "id": None, "name": name, "requirements": None, "uri": None}}


def _url_spec(**kwargs: str) -> dict[str, object]:
    """The spec PlatformIO itself records for a package installed from a URL (``platform = <URL>``, or a URL as a
    package's version): its package manager finds an installed package for such a requirement by this spec's
    ``uri`` alone (``BasePackageManager.test_pkg_spec``)."""
    from platformio.package.meta import PackageSpec

    return PackageSpec(**kwargs).as_dict()


def prepare_core(core: Path) -> None:
    seed_core_dir(core)
    (core / "packages" / "tool-scons" / "scons.py").write_text(KEEP_GOING_LAUNCHER, encoding="utf-8")


def install_platform(core: Path, name: str, tree: Path, uri: str | None = None, commit: str = "") -> str:
    dest = core / "platforms" / name
    version = json.loads((tree / "platform.json").read_text(encoding="utf-8"))["version"]
    if uri:  # as PlatformIO installs a platform from git: <version>+sha.<commit>, the URL in the spec
        version = f"{version}+sha.{commit}"
    if not (dest / ".piopm").is_file():
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(tree, dest, symlinks=True, ignore=shutil.ignore_patterns(co.MARKER))
        _write_json(dest / ".piopm", _piopm("platform", name, version, _url_spec(raw=uri) if uri else None))
    return version


def install_package(core: Path, pkg: Package, trees: dict[str, Path]) -> Path:
    """<core>/packages/<name> (or <name>@<version> when another version already holds <name>)."""
    packages = core / "packages"
    for candidate in (packages / pkg.name, packages / f"{pkg.name}@{pkg.version}"):
        meta = candidate / ".piopm"
        if meta.is_file():
            if json.loads(meta.read_text(encoding="utf-8")).get("version") == pkg.version:
                return candidate
            continue
        if candidate.exists():
            shutil.rmtree(candidate)
        pkg.fill(candidate, trees)
        candidate.mkdir(parents=True, exist_ok=True)
        _write_json(candidate / "package.json",
                    {"name": pkg.name, "version": pkg.version,
                     "description": f"local stand-in written by tools/real_boards: {pkg.note}"})
        spec = _url_spec(owner="platformio", name=pkg.name, requirements=pkg.uri) if pkg.uri else None
        _write_json(candidate / ".piopm", _piopm("tool", pkg.name, pkg.version, spec))
        return candidate
    raise RuntimeError(f"cannot place {pkg.name}@{pkg.version} in {packages}")


def get_trees(refs: Iterable[RepoRef], repos: Path, mirrors: Path) -> dict[str, co.Tree]:
    """Working trees for ``refs``: exported from the mirrors when they are there, else the
    existing folders under ``repos`` (whatever commit they hold)."""
    trees: dict[str, co.Tree] = {}
    for ref in refs:
        if ref.key in trees:
            continue
        if co.mirror_dir(mirrors, ref.repo).is_dir():
            trees[ref.key] = co.checkout(ref.repo, ref.ref, repos, mirrors, name=ref.tree)
            continue
        path = repos / (ref.tree or ref.repo.replace("/", "+"))
        if not path.is_dir():
            raise FileNotFoundError(f"{ref.repo}: no mirror under {mirrors} and no working tree at {path}")
        marker = path / co.MARKER
        if marker.is_file():
            meta = json.loads(marker.read_text(encoding="utf-8"))
            trees[ref.key] = co.Tree(ref.repo, meta["ref"], meta["commit"], path, meta.get("missing", []),
                                     meta.get("submodules", {}))
        else:
            r = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True, text=True)
            trees[ref.key] = co.Tree(ref.repo, "(existing tree)", r.stdout.strip() or "unknown", path)
    return trees


# ---------------------------------------------------------------------------------------------
# build log parsing


@dataclass
class Compile:
    obj: str  # relative to the project dir
    src: str
    argv: list[str]
    group: str = ""  # ours | framework
    ok: bool = False


@dataclass
class BuildLog:
    compiles: list[Compile] = field(default_factory=list)
    link: list[str] | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)  # source -> first error lines


def _is_compile(argv: list[str]) -> bool:
    return bool(argv) and bool(COMPILERS.search(argv[0])) and "-c" in argv and "-o" in argv


def parse_log(text: str, build_dir: str) -> BuildLog:
    log = BuildLog()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        head = line.split(" ", 1)[0]
        if not COMPILERS.search(head):
            if (m := ERROR_RE.match(line)) is not None:
                block = log.errors.setdefault(m.group("file"), [])
                if len(block) < 4:
                    block.append(line.strip())
                    # the next lines (source excerpt) help to read a macro error
                    block.extend(x.rstrip() for x in lines[i + 1:i + 3] if x.startswith(" "))
            continue
        try:
            argv = shlex.split(line)
        except ValueError:
            continue
        out = argv[argv.index("-o") + 1] if "-o" in argv else ""
        if _is_compile(argv):
            log.compiles.append(Compile(out, argv[-1], argv))
        elif out.endswith(".elf") and out.startswith(build_dir):
            log.link = argv
    return log


def classify(c: Compile, build_dir: str, framework_dirs: tuple[str, ...], our_libs: set[str]) -> str:
    rel = Path(c.obj).relative_to(build_dir) if c.obj.startswith(build_dir) else Path(c.obj)
    first = rel.parts[0] if rel.parts else ""
    if first == "src":
        return "ours"
    if first.startswith("lib") and len(rel.parts) > 1 and rel.parts[1] in our_libs:
        return "ours"
    if first in framework_dirs or first.startswith("lib"):
        return "framework"
    return "framework"


def flag_values(argv: list[str]) -> dict[str, list[str]]:
    """Every -std=, -mfloat-abi=, -mfpu=, -mcpu=, -O in command order (the last one wins)."""
    keys = ("-std=", "-mfloat-abi=", "-mfpu=", "-mcpu=")
    found: dict[str, list[str]] = {}
    for a in argv:
        for k in keys:
            if a.startswith(k):
                found.setdefault(k.rstrip("="), []).append(a[len(k):])
        if re.fullmatch(r"-O[0-3sgz]?", a):
            found.setdefault("-O", []).append(a)
    return found


def unit_of(c: Compile, build_dir: str) -> str:
    """The build unit an object belongs to: src, lib<hash>/<library>, or a framework dir."""
    rel = Path(c.obj).relative_to(build_dir) if c.obj.startswith(build_dir) else Path(c.obj)
    parts = rel.parts
    return "/".join(parts[:2]) if parts and parts[0].startswith("lib") and len(parts) > 2 else parts[0]


def flags_by_unit(compiles: list[Compile], build_dir: str) -> dict[str, dict[str, object]]:
    """Per build unit and language: file count and the effective (last) -std / -mfloat-abi / -mfpu / -mcpu / -O,
    with every value seen in command order when a unit's files disagree or a flag is repeated."""
    units: dict[str, dict[str, object]] = {}
    for c in compiles:
        lang = "asm" if c.src.endswith((".S", ".s")) else "c++" if c.argv[0].endswith(("++", "c++")) else "c"
        entry = units.setdefault(f"{unit_of(c, build_dir)} [{lang}]", {"files": 0, "effective": {}, "in_order": []})
        entry["files"] += 1  # type: ignore[operator]
        values = flag_values(c.argv)
        for k, v in values.items():
            eff = entry["effective"].setdefault(k, [])  # type: ignore[union-attr]
            if v[-1] not in eff:
                eff.append(v[-1])
        if values not in entry["in_order"]:  # type: ignore[operator]
            entry["in_order"].append(values)  # type: ignore[union-attr]
    return units


def summarise_flags(compiles: list[Compile]) -> dict[str, object]:
    """Per language (C / C++ / assembler), the distinct flag sequences and one full command."""
    result: dict[str, object] = {}
    for c in compiles:
        lang = "asm" if c.src.endswith((".S", ".s")) else "c++" if c.argv[0].endswith(("++", "c++")) else "c"
        entry = result.setdefault(lang, {"files": 0, "flags": [], "effective": {}, "example": ""})
        assert isinstance(entry, dict)
        entry["files"] += 1
        values = flag_values(c.argv)
        if values not in entry["flags"]:
            entry["flags"].append(values)
        for k, v in values.items():
            eff = entry["effective"].setdefault(k, [])
            if v[-1] not in eff:
                eff.append(v[-1])
        if not entry["example"]:
            entry["example"] = shlex.join(c.argv)
    return result


# ---------------------------------------------------------------------------------------------
# sizes


def _section_kinds(elf: Path) -> dict[str, str]:
    """Allocated ELF section -> text (read-only, stays in flash) | data (has contents and is copied to
    RAM: writable, or its load address differs from its run address, as RP2040's executable .data)
    | bss (no contents)."""
    r = subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], capture_output=True, text=True)
    kinds: dict[str, str] = {}
    lines = r.stdout.splitlines()
    for head, flags in zip(lines, lines[1:], strict=False):
        m = re.match(r"\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s", head)
        if not m or "ALLOC" not in flags:
            continue
        name, _size, vma, lma = m.groups()
        if "LOAD" not in flags:
            kinds[name] = "bss"
        elif vma != lma or "READONLY" not in flags:
            kinds[name] = "data"
        else:
            kinds[name] = "text"
    return kinds


def elf_size(elf: Path) -> dict[str, object] | None:
    """text/data/bss by where each allocated section lives (see _section_kinds), and the raw
    ``arm-none-eabi-size -B`` line (which counts a read-only .data copied to RAM as text)."""
    r = subprocess.run(["arm-none-eabi-size", "-A", "-d", str(elf)], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    kinds = _section_kinds(elf)
    sums = {"text": 0, "data": 0, "bss": 0}
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in kinds and parts[1].isdigit():
            sums[kinds[parts[0]]] += int(parts[1])
    berkeley = subprocess.run(["arm-none-eabi-size", "-B", str(elf)], capture_output=True, text=True).stdout
    return {**sums, "flash": sums["text"] + sums["data"], "ram": sums["data"] + sums["bss"],
            "size_B": " ".join(berkeley.splitlines()[1].split()[:3]) if berkeley else ""}


def ram_symbols(elf: Path, count: int = 8) -> list[str]:
    """The largest RAM (data/bss) symbols: where the framework's RAM goes (e.g. mbed's _main_stack)."""
    r = subprocess.run(["arm-none-eabi-nm", "-S", "--size-sort", "-C", str(elf)], capture_output=True, text=True)
    syms = [ln.split(None, 3) for ln in r.stdout.splitlines()]
    big = [s for s in syms if len(s) == 4 and s[2] in "bBdD"]
    return [f"{s[3]} {int(s[1], 16)} B ({s[2]})" for s in big[-count:][::-1]]


def map_split(map_file: Path, elf: Path, build_dir: Path, ours: set[str], project: Path) -> dict[str, dict[str, int]]:
    """text/data/bss per origin (ours, framework, toolchain, linker script) from a GNU ld map."""
    kinds = _section_kinds(elf)
    totals: dict[str, dict[str, int]] = {}
    by_section: dict[str, dict[str, int]] = {}
    section_sum: dict[str, int] = {}
    current = None
    pending: str | None = None
    started = False
    for raw in map_file.read_text(errors="replace").splitlines():
        if raw.startswith("Linker script and memory map"):
            started = True
            continue
        if not started:
            continue
        if raw and not raw[0].isspace():
            name = raw.split()[0]
            current = name if name in kinds else None
            pending = None
            continue
        if current is None:
            continue
        parts = raw.split()
        if len(parts) == 1 and parts[0].startswith("."):
            pending = parts[0]
            continue
        if pending is not None and len(parts) == 3 and parts[0].startswith("0x"):
            parts = [pending, *parts]
        pending = None
        if len(parts) < 4 or not parts[1].startswith("0x") or not parts[2].startswith("0x"):
            continue
        if parts[0] in ("*fill*",):
            continue
        size = int(parts[2], 16)
        if size == 0:
            continue
        origin = " ".join(parts[3:])
        owner = _origin(origin, build_dir, ours, project)
        bucket = totals.setdefault(owner, {"text": 0, "data": 0, "bss": 0})
        bucket[kinds[current]] += size
        per_section = by_section.setdefault(owner, {})
        per_section[current] = per_section.get(current, 0) + size
        section_sum[current] = section_sum.get(current, 0) + size
    # what no input file accounts for (linker-script blocks such as heap/stack reservations, fill)
    sizes = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True, text=True).stdout
    other = {"text": 0, "data": 0, "bss": 0}
    for line in sizes.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in kinds and parts[1].isdigit():
            other[kinds[parts[0]]] += max(0, int(parts[1]) - section_sum.get(parts[0], 0))
    totals["linker script / fill"] = other
    for bucket in totals.values():
        bucket["flash"] = bucket["text"] + bucket["data"]
        bucket["ram"] = bucket["data"] + bucket["bss"]
    for owner, sections in by_section.items():  # output sections of 64 B or more, by size
        big = {k: v for k, v in sorted(sections.items(), key=lambda kv: -kv[1]) if v >= 64}
        totals[owner]["by_output_section"] = big  # type: ignore[assignment]
    return totals


LAYOUT_SYMBOLS = ("_main_stack", "_estack", "_ebss", "_sbss", "_sdata", "_edata", "__StackTop", "__StackLimit",
                  "__stack", "_sstack", "__end__", "end", "__HeapLimit", "_heap_start", "_heap_end",
                  "_itcm_block_count",
                  "_flashimagelen", "_Min_Stack_Size", "_Min_Heap_Size")


def stack_from_layout(symbols: dict[str, str]) -> dict[str, object] | None:
    """The main stack the image gives, from its linker symbols (None when they do not say)."""

    def addr(name: str) -> int:
        return int(symbols[name].split()[0], 16)

    if "_main_stack" in symbols and "size" in symbols["_main_stack"]:
        return {"bytes": int(symbols["_main_stack"].split()[-1]), "how": "size of the RTOS main thread's _main_stack"}
    if "__StackTop" in symbols and "__StackLimit" in symbols:
        return {"bytes": addr("__StackTop") - addr("__StackLimit"),
                "how": "__StackTop - __StackLimit (the stack block the linker script reserves; the heap may grow into "
                       "what lies between __end__ and __StackLimit)"}
    if "_estack" in symbols and "_ebss" in symbols:
        return {"bytes": addr("_estack") - addr("_ebss"),
                "how": "_estack - _ebss (no fixed stack: the stack, and any heap, share everything above .bss)"}
    return None


def layout_symbols(elf: Path) -> dict[str, str]:
    """Linker-script symbols that say where the stack and heap are (hex address or size)."""
    r = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True)
    found: dict[str, str] = {}
    for line in r.stdout.splitlines():
        parts = line.split()
        if parts and parts[-1] in LAYOUT_SYMBOLS:
            found[parts[-1]] = "0x" + parts[0] + (f" size {int(parts[1], 16)}" if len(parts) == 4 else "")
    return found


def _origin(origin: str, build_dir: Path, ours: set[str], project: Path) -> str:
    path = origin.split("(", 1)[0]
    p = Path(path)
    if not p.is_absolute():
        p = project / p
    try:
        rel = p.resolve().relative_to(build_dir.resolve())
    except ValueError:
        return "toolchain (libc, libm, libgcc, libstdc++)" if "/usr/lib" in path or "arm-none-eabi" in path \
            else "framework (prebuilt libraries)"
    key = str(rel)
    if key in ours or (rel.parts and rel.parts[0] == "src"):
        return "ours"
    if any(o.startswith(str(rel.parent) + "/") for o in ours) and rel.suffix == ".a":
        return "ours"
    return "framework (compiled here)"


# ---------------------------------------------------------------------------------------------
# one board


def run_pio(project: Path, env_name: str, core: Path, log_path: Path, timeout: int = 3600) -> tuple[int, str, float]:
    pio = Path(sys.executable).with_name("pio")
    t0 = time.monotonic()
    r = subprocess.run([str(pio), "run", "-v", "-j", "2", "-e", env_name], cwd=project, env=pio_environ(core),
                       capture_output=True, text=True, timeout=timeout)
    text = r.stdout + ("\n--- stderr ---\n" + r.stderr if r.stderr else "")
    log_path.write_text(text, encoding="utf-8")
    return r.returncode, text, time.monotonic() - t0


def analyse(project: Path, env_name: str, text: str, spec: BoardSpec, started: float, logs: Path,
            tag: str) -> dict[str, object]:
    build_dir = f".pio/build/{env_name}"
    log = parse_log(text, build_dir)
    our_libs = {p.name for p in (project / "lib").iterdir() if p.is_dir()} if (project / "lib").is_dir() else set()
    for c in log.compiles:
        c.group = classify(c, build_dir, spec.framework_dirs, our_libs)
        obj = project / c.obj
        c.ok = obj.is_file() and obj.stat().st_mtime >= started - 1
    result: dict[str, object] = {}
    for group in ("ours", "framework"):
        items = [c for c in log.compiles if c.group == group]
        failed = [c for c in items if not c.ok]
        result[group] = {
            "compiled": len(items) - len(failed),
            "failed": len(failed),
            "failed_sources": [c.src for c in failed],
            "flags": summarise_flags(items),
            "flags_by_unit": flags_by_unit(items, build_dir),
            "first_errors": {src: lines for src, lines in log.errors.items()
                             if any(src.endswith(c.src) or c.src.endswith(src) for c in failed)},
        }
    elf = project / build_dir / "firmware.elf"
    linked = log.link is not None and elf.is_file() and elf.stat().st_mtime >= started - 1
    link: dict[str, object] = {"attempted": log.link is not None, "linked": linked}
    if log.link is not None:
        link["command"] = shlex.join(log.link)
        link["flags"] = flag_values(log.link)
    if not linked and log.link is not None:
        link["errors"] = [ln for ln in text.splitlines()
                          if "ld: " in ln or "undefined reference" in ln or "cannot find" in ln][:8]
    if linked and log.link is not None:
        link["size"] = elf_size(elf)
        link["largest_ram_symbols"] = ram_symbols(elf)
        link["layout_symbols"] = layout_symbols(elf)
        link["stack_from_elf"] = stack_from_layout(link["layout_symbols"])  # type: ignore[arg-type]
        map_file = logs / f"{tag}.map"
        relink = [*log.link, f"-Wl,-Map={map_file}"]
        relink[relink.index("-o") + 1] = str(logs / f"{tag}.elf")
        r = subprocess.run(relink, cwd=project, capture_output=True, text=True)
        if r.returncode == 0 and map_file.is_file():
            ours = {str(Path(c.obj).relative_to(build_dir)) for c in log.compiles if c.group == "ours"}
            link["split"] = map_split(map_file, logs / f"{tag}.elf", project / build_dir, ours, project)
        else:
            link["split_error"] = r.stderr[-2000:]
    elif result["ours"]["compiled"]:  # type: ignore[index]
        objs = [str(project / c.obj) for c in log.compiles if c.group == "ours" and c.ok]
        r = subprocess.run(["arm-none-eabi-size", "-B", "-t", *objs], capture_output=True, text=True)
        if r.returncode == 0:
            t, d, b = (int(x) for x in r.stdout.splitlines()[-1].split()[:3])
            link["our_objects_before_gc"] = {"text": t, "data": d, "bss": b,
                                             "note": "sum of our object files, before --gc-sections (upper bound)"}
    result["link"] = link
    error_lines = [ln.strip() for ln in text.splitlines() if ERROR_RE.match(ln)]
    kinds: dict[str, int] = {}
    for ln in error_lines:
        kind = ERROR_RE.sub("", ln)
        kinds[kind] = kinds.get(kind, 0) + 1
    result["errors"] = {"count": len(error_lines), "first": error_lines[:6],
                        "most_common": [f"{n} x {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1])[:6]]}
    return result


def check_board(board_id: str, args: argparse.Namespace, core: Path, project: Path,
                trees: dict[str, co.Tree]) -> dict[str, object]:
    spec = RECIPES[board_id]
    logs = args.out / "logs"
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    report: dict[str, object] = {"board": board_id, "date": now}
    catalogue = all_boards()[board_id]
    report["catalogue"] = {"platformio": catalogue.platformio, "cflags": catalogue.cflags,
                           "flash_bytes": catalogue.flash_bytes, "ram_bytes": catalogue.ram_bytes}
    report["repositories"] = [
        {**trees[r.key].as_dict(), "why": r.why} for r in spec.repos if r.key in trees]
    source = trees[spec.platform.source.key]
    report["platform"] = {"name": spec.platform.name, "version": install_platform(
        core, spec.platform.name, source.path, spec.platform.uri, source.commit)}
    if spec.platform.uri:
        report["platform"]["uri"] = spec.platform.uri
    paths = {k: t.path for k, t in trees.items()}
    report["packages"] = []
    for pkg in spec.packages:
        where = install_package(core, pkg, paths)
        report["packages"].append({"name": pkg.name, "version": pkg.version, "requirement": pkg.requirement,
                                   "kind": pkg.kind, "note": pkg.note, "dir": str(where)})
    if any(p.kind == "toolchain" for p in spec.packages):
        gcc = subprocess.run(["arm-none-eabi-gcc", "--version"], capture_output=True, text=True).stdout
        report["toolchain"] = {"used": gcc.splitlines()[0] if gcc else "?",
                               "stands_in_for": [f"{p.name} {p.requirement}" for p in spec.packages
                                                 if p.kind == "toolchain"]}
    report["main_stack"] = spec.main_stack(paths) if spec.main_stack else None
    report["notes"] = spec.notes
    if spec.not_checked:
        report["not_checked"] = spec.not_checked
    started = time.time()
    rc, text, secs = run_pio(project, board_id, core, logs / f"{board_id}.log")
    report["pio_run"] = {"exit": rc, "seconds": round(secs, 1), "log": str(logs / f"{board_id}.log"),
                         "tail": text.strip().splitlines()[-6:]}
    report.update(analyse(project, board_id, text, spec, started, logs, board_id))
    link = report["link"]
    assert isinstance(link, dict)
    if not link.get("linked"):
        libdirs = [a[2:].rstrip("/") for a in shlex.split(str(link.get("command", ""))) if a.startswith("-L")]
        absent = [f"{t.repo}: {m}" for t in trees.values() for m in t.missing
                  for lib in re.findall(r"cannot find -l(\S+?):", "\n".join(link.get("errors", [])))
                  if m.endswith(f"/lib{lib}.a") and any(d.endswith(str(Path(m).parent)) for d in libdirs)]
        if absent:
            link["not_checked"] = ("the link needs prebuilt libraries absent from the mirror (large blobs left out): "
                                   + "; ".join(absent) + ". Every object was still compiled (SCons -k)")
    if not spec.not_checked and args.baseline:
        report["baseline"] = baseline(board_id, args, core, spec)
    report["not_checked_items"] = not_checked_items(report, spec)
    _write_json(logs / f"{board_id}.json", report)
    return report


def not_checked_items(report: dict[str, object], spec: BoardSpec) -> list[str]:
    """What this run could not establish, and why."""
    items = []
    if spec.not_checked:
        return [spec.not_checked]
    gcc = report.get("toolchain")
    if isinstance(gcc, dict):
        items.append(f"the pinned toolchain itself ({', '.join(gcc['stands_in_for'])}): {gcc['used']} stood in, so "
                     "failures specific to the pinned GCC (e.g. GCC 7.2.1's arm_acle.h lacking the DSP intrinsics) "
                     "cannot show here; the -std defaults of the pinned GCC may differ where no -std is given")
    link = report.get("link", {})
    if isinstance(link, dict) and not link.get("linked"):
        items.append("the KWS image: " + str(link.get("not_checked") or link.get("errors") or "link not attempted"))
    base = report.get("baseline", {})
    if isinstance(base, dict) and base and not (base.get("link", {}) or {}).get("linked"):
        items.append("what the framework alone takes of flash and RAM: the empty sketch did not link either")
    return items


def baseline(board_id: str, args: argparse.Namespace, core: Path, spec: BoardSpec) -> dict[str, object]:
    """An empty sketch (setup/loop) on the same env: what the framework alone takes."""
    proj = args.out / "baseline"
    (proj / "src").mkdir(parents=True, exist_ok=True)
    (proj / "src" / "main.cpp").write_text("#include <Arduino.h>\nvoid setup() {}\nvoid loop() {}\n", encoding="utf-8")
    envs = []
    for bid in args.board:
        if bid in RECIPES and not RECIPES[bid].not_checked:
            pio = all_boards()[bid].platformio
            envs.append(f"[env:{bid}]\nplatform = {pio['platform']}\nboard = {pio['board']}\n"
                        f"framework = {pio['framework']}\n")
    (proj / "platformio.ini").write_text("\n".join(envs), encoding="utf-8")
    started = time.time()
    rc, text, secs = run_pio(proj, board_id, core, args.out / "logs" / f"{board_id}.baseline.log")
    res = analyse(proj, board_id, text, spec, started, args.out / "logs", f"{board_id}.baseline")
    return {"exit": rc, "seconds": round(secs, 1), "framework_compiled": res["framework"], "link": res["link"]}


# ---------------------------------------------------------------------------------------------
# summary


def _kb(n: object) -> str:
    return f"{n / 1024:.1f} KB" if isinstance(n, int) else "-"


def summary_row(r: dict[str, object]) -> str:
    pkgs = {p["name"]: p["version"] for p in r.get("packages", [])}  # type: ignore[union-attr]
    fw = ", ".join(f"{k} {v}" for k, v in pkgs.items() if k.startswith("framework"))
    repos = ", ".join(f"{x['repo']}@{x['ref']}" for x in r.get("repositories", []))  # type: ignore[union-attr]
    ours, frame, link = r.get("ours", {}), r.get("framework", {}), r.get("link", {})
    assert isinstance(ours, dict) and isinstance(frame, dict) and isinstance(link, dict)

    def eff(group: dict, key: str) -> str:
        cxx = group.get("flags", {}).get("c++", {})
        if not cxx:
            return "-"
        return "/".join(cxx.get("effective", {}).get(key, [])) or "(compiler default)"

    size = link.get("size") or {}
    base = r.get("baseline", {}) or {}
    bsize = (base.get("link", {}) or {}).get("size") if isinstance(base, dict) else None
    stack = r.get("main_stack") or {}
    if not (isinstance(stack, dict) and stack.get("bytes")):
        elf_stack = link.get("stack_from_elf") or (base.get("link", {}) or {}).get("stack_from_elf") or {}
        stack = {"bytes": f"{elf_stack['bytes']} (from the image)"} if elf_stack else {}
    status = ("linked" if link.get("linked") else "not linked") if not r.get("not_checked") else "not checked"
    return (f"| {r['board']} | {r.get('platform', {}).get('name', '')} {r.get('platform', {}).get('version', '')} "
            f"| {fw} | {repos} | {ours.get('compiled', 0)}/{ours.get('compiled', 0) + ours.get('failed', 0)} "
            f"| {frame.get('compiled', 0)}/{frame.get('compiled', 0) + frame.get('failed', 0)} | {status} "
            f"| ours {eff(ours, '-std')} {eff(ours, '-mfloat-abi')}; fw {eff(frame, '-std')} "
            f"{eff(frame, '-mfloat-abi')} "
            f"| {size.get('text', '-')}/{size.get('data', '-')}/{size.get('bss', '-')} "
            f"| {_kb(bsize.get('flash')) if bsize else '-'} / {_kb(bsize.get('ram')) if bsize else '-'} "
            f"| {stack.get('bytes', '-') if isinstance(stack, dict) else '-'} |")


def write_summary(out: Path, reports: list[dict[str, object]]) -> None:
    lines = ["# Real-platform check of the KWS project", "",
             f"Generated by tools/real_boards/check.py on {dt.date.today().isoformat()}; details in logs/<board>.json.",
             "", "| board | platform | framework package | repositories | ours compiled | framework compiled | link "
             "| flags (C++ -std, float ABI; last wins) | KWS text/data/bss | empty sketch flash / RAM | main stack |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    lines += [summary_row(r) for r in reports]
    notes = []
    for r in reports:
        link = r.get("link", {})
        assert isinstance(link, dict)
        if r.get("not_checked"):
            notes.append(f"- {r['board']}: not checked: {r['not_checked']}. PlatformIO said: "
                         f"{' / '.join(r.get('pio_run', {}).get('tail', [])[-1:])}")  # type: ignore[union-attr]
        elif not link.get("linked"):
            why = link.get("not_checked") or link.get("errors") or "link not attempted (objects failed to compile)"
            notes.append(f"- {r['board']}: not linked: {why}")
        errors = r.get("errors", {})
        if isinstance(errors, dict) and errors.get("count"):
            notes.append(f"- {r['board']}: {errors['count']} error lines; first: {' | '.join(errors['first'][:2])}")
        for group in ("ours", "framework"):
            g = r.get(group, {})
            if isinstance(g, dict) and g.get("failed"):
                first = next(iter(g.get("first_errors", {}).values()), [])
                notes.append(f"- {r['board']}: {g['failed']} of {group} failed: {g['failed_sources'][:5]}; "
                             "first error: "
                             + " | ".join(first[:2]))
        for note in r.get("notes", []) or []:  # type: ignore[union-attr]
            notes.append(f"- {r['board']}: {note}")
    if notes:
        lines += ["", *notes]
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repos", type=Path, required=True, help="working trees <owner>+<name> (outside the repo)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--mirrors", type=Path, default=co.DEFAULT_MIRRORS, help="bare mirrors to export trees from")
    ap.add_argument("--board", action="append", help="catalogue board id (repeatable; default: every hardware board)")
    ap.add_argument("--model", type=Path, default=KWS_MODEL)
    ap.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the empty-sketch build")
    ap.add_argument("--generator", type=Path, default=ROOT,
                    help="the microforge checkout whose generator and runtime make the project (default: this one)")
    ap.add_argument("--keep-core", action="store_true", help="reuse <out>/core instead of making a fresh one")
    args = ap.parse_args(argv)
    args.board = args.board or [b for b in ORDER if b in RECIPES]
    unknown = [b for b in args.board if b not in RECIPES]
    if unknown:
        ap.error(f"no recipe for {unknown}; known: {sorted(RECIPES)}")
    args.out = args.out.resolve()
    args.repos = args.repos.resolve()
    (args.out / "logs").mkdir(parents=True, exist_ok=True)
    core = args.out / "core"
    if core.exists() and not args.keep_core:
        shutil.rmtree(core)
    prepare_core(core)
    refs = [r for b in args.board for r in RECIPES[b].repos]
    trees = get_trees(refs, args.repos, args.mirrors)
    project = args.out / "project"
    if project.exists():
        shutil.rmtree(project)
    gen_env = {**os.environ, "PYTHONPATH": str(args.generator.resolve() / "generator")}
    r = subprocess.run([sys.executable, "-c", "import sys; from microforge.cli import main; sys.exit(main())", "new",
                        "--model", str(args.model), *[x for b in args.board for x in ("--board", b)],
                        "--output", str(project), "--force"], capture_output=True, text=True, env=gen_env)
    (args.out / "logs" / "microforge-new.log").write_text(r.stdout + r.stderr, encoding="utf-8")
    if r.returncode != 0:
        print(r.stdout + r.stderr, file=sys.stderr)
        return 1
    gen_root = args.generator.resolve()
    head = subprocess.run(["git", "-C", str(gen_root), "log", "-1", "--format=%H %s"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(gen_root), "status", "--short", "--", "generator", "runtime", "boards",
                            "cookiecutter-template"], capture_output=True, text=True).stdout.splitlines()
    reports = []
    for board_id in args.board:
        print(f"== {board_id}", flush=True)
        rep = check_board(board_id, args, core, project, trees)
        rep["microforge"] = {"root": str(gen_root), "commit": head.stdout.strip()[:200],
                             "uncommitted_changes": dirty or "none (or not a git checkout)"}
        _write_json(args.out / "logs" / f"{board_id}.json", rep)
        reports.append(rep)
        print(summary_row(rep), flush=True)
    write_summary(args.out, reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
