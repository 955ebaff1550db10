"""Two generator versions' projects for one model, compiled and held side by side
(tests/e2e/test_generated_unchanged.py).

The "before" generator is an older commit's tree exported with `git archive` and run as
`python -m microforge.cli new` with PYTHONPATH at its generator/ (the venv's editable install
comes later on sys.path, so the exported package wins). Each side's generated C++ (src/model/)
is compiled for qemu-m4 against that side's own runtime (the project's lib/microforge-runtime,
a copy of the runtime next to that generator) with that side's -D MF_* build flags, and the
objects are read section by section: with -ffunction-sections -fdata-sections every function and
object sits in a section named after it, so "the same sections" is "the same symbols, bytes and
relocations"."""

from __future__ import annotations

import configparser
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.descriptions import describe_reloc_type
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from support import ROOT

BOARD = "qemu-m4"
# What the before generator needs of its tree: the package, its template, its runtime (copied into
# each project) and its board catalogue and platform (resources.py finds them next to generator/).
TREE_PARTS = ("generator", "runtime", "cookiecutter-template", "boards")
# The qemu-m4 env's C++ compile (boards/platform/builder/main.py: the arm-none-eabi CCFLAGS and
# CXXFLAGS; boards/platform/boards/mf-qemu-m4.json: cpu, fpu, float ABI), the same at both commits.
# -g is left out: debug info carries paths and line numbers, which comments legitimately move.
CXX = "arm-none-eabi-g++"
CXXFLAGS = ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-Os", "-Wall",
            "-ffunction-sections", "-fdata-sections", "-fno-common", "-std=gnu++17", "-fno-rtti",
            "-fno-exceptions", "-fno-threadsafe-statics")
# An `inline constexpr` constant of a generated header (kArenaSize, kData, kName, ...).
_HEADER_CONSTANT = re.compile(r"^\s*(?:alignas\(\d+\)\s+)?inline\s+constexpr\s+[\w:<>\s]+?\b(k\w+)\s*(?:\[\])?\s*=",
                              re.M)
PROBE = "mf_probe_headers"  # the unit that odr-uses the header constants


class Unavailable(Exception):
    """The before tree cannot be had here (no git, a shallow clone or a tarball): a skip, not a failure."""


def export_tree(commit: str, dest: Path) -> Path:
    """The commit's TREE_PARTS under dest (git archive), or Unavailable."""
    git = shutil.which("git")
    if git is None:
        raise Unavailable("git is not installed")
    probe = subprocess.run([git, "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise Unavailable(f"commit {commit} is not in this repository (a shallow clone or a tarball?)")
    archive = subprocess.run([git, "-C", str(ROOT), "archive", "--format=tar", commit, *TREE_PARTS],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def generate(model: Path, out: Path, tree: Path | None = None) -> Path:
    """`microforge new --model model --board BOARD --output out` with tree's generator (None: this
    checkout's), in a subprocess of the venv's python."""
    generator = (tree or ROOT) / "generator"
    env = {**os.environ, "PYTHONPATH": str(generator)}
    run = subprocess.run([sys.executable, "-m", "microforge.cli", "new", "--model", str(model), "--board", BOARD,
                          "--output", str(out)], env=env, capture_output=True, text=True, cwd=out.parent)
    assert run.returncode == 0, f"microforge new ({generator}) failed on {model.name}:\n{run.stdout}{run.stderr}"
    # The package that ran found its template next to itself (resources.py): proof of which ran.
    template = json.loads((out / ".cookiecutter.json").read_text())["_template"]
    assert Path(template).resolve() == ((tree or ROOT) / "cookiecutter-template").resolve(), template
    return out


def _ini(project: Path) -> configparser.ConfigParser:
    ini = configparser.ConfigParser(interpolation=None)
    ini.read(project / "platformio.ini")
    return ini


def build_flags(project: Path) -> list[str]:
    """The BOARD env's build_flags of the project's platformio.ini, ${env.build_flags} expanded."""
    ini = _ini(project)
    own = ini.get(f"env:{BOARD}", "build_flags", fallback="${env.build_flags}")
    return shlex.split(own.replace("${env.build_flags}", ini.get("env", "build_flags", fallback="")))


def src_flags(project: Path) -> list[str]:
    """The [env] build_src_flags: flags for src/ only."""
    return shlex.split(_ini(project).get("env", "build_src_flags", fallback=""))


def macros(flags: list[str]) -> dict[str, str]:
    """The -D NAME=VALUE (or -DNAME=VALUE) macros of a flag list, by name."""
    return dict(_split(flags)[0])


def plain_flags(flags: list[str]) -> list[str]:
    """The flags of a flag list that are no -D macro."""
    return _split(flags)[1]


def _split(flags: list[str]) -> tuple[list[tuple[str, str]], list[str]]:
    defined, plain = [], []
    it = iter(flags)
    for flag in it:
        if flag.startswith("-D"):
            name, _, value = (flag[2:] or next(it)).partition("=")
            defined.append((name, value or "1"))
        else:
            plain.append(flag)
    return defined, plain


def header_constants(model_dir: Path) -> list[str]:
    """The names of the `inline constexpr` constants of the generated headers in model_dir."""
    names = []
    for header in sorted(model_dir.glob("*.h")):
        text = header.read_text()
        found = [m[1] for m in _HEADER_CONSTANT.finditer(text)]
        assert len(found) == text.count("inline constexpr"), f"{header}: a constant of a form the probe misses"
        names += [n for n in dict.fromkeys(found) if n not in names]  # one defined on both sides of an #if: once
    return names


def compile_project(project: Path, out: Path, extra: tuple[str, ...] = ()) -> dict[str, Path]:
    """Each generated .cpp of src/model/, and a probe unit that odr-uses every header constant
    (they are emitted only where odr-used), compiled as the qemu-m4 env compiles src/ with the
    project's -D flags (and extra ones): unit name -> object file."""
    gen = project / "src" / "model"
    out.mkdir(parents=True, exist_ok=True)
    probe = out / f"{PROBE}.cpp"
    probe.write_text("".join(f'#include "{h.name}"\n' for h in sorted(gen.glob("*.h")))
                     + "".join(f'extern "C" const void* const mf_probe_{n} = &model::{n};\n'
                               for n in header_constants(gen)))
    runtime = project / "lib" / "microforge-runtime" / "src"  # the project's copy of its generator's runtime
    defines = [*(f"-D{k}={v}" for k, v in macros(build_flags(project)).items()), *extra]
    objects = {}
    for src in [*sorted(gen.glob("*.cpp")), probe]:
        obj = out / f"{src.stem}.o"
        run = subprocess.run([CXX, *CXXFLAGS, *defines, "-I", str(gen), "-I", str(runtime), "-c", str(src),
                              "-o", str(obj)], capture_output=True, text=True)
        assert run.returncode == 0, f"{src} does not compile:\n{run.stderr}"
        objects[src.stem] = obj
    return objects


@dataclass(frozen=True)
class Section:
    """One allocated section of an object: what a link would take from it."""

    type: str
    flags: int
    align: int
    data: bytes  # NOBITS: zeros of its size
    relocs: tuple[tuple[int, str, str], ...]  # (offset, type, target symbol or [section])
    symbols: tuple[tuple[str, int, int, str, str, str], ...]  # (name, value, size, type, bind, visibility)


def read_sections(obj: Path) -> dict[str, Section]:
    """The object's allocated sections by name (their relocations and symbols with them); the
    symbol table, string tables, COMDAT groups and notes (.comment, .ARM.attributes: compiler and
    flags, the same for both sides) are left out."""
    with obj.open("rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        assert isinstance(symtab, SymbolTableSection)
        names = [s.name for s in elf.iter_sections()]

        def target(index: int) -> str:
            sym = symtab.get_symbol(index)
            return f"[{names[sym['st_shndx']]}]" if sym["st_info"]["type"] == "STT_SECTION" else sym.name

        relocs: dict[int, list[tuple[int, str, str]]] = {}
        for sec in elf.iter_sections():
            if isinstance(sec, RelocationSection):
                relocs[sec["sh_info"]] = sorted(
                    (r["r_offset"], describe_reloc_type(r["r_info_type"], elf), target(r["r_info_sym"]))
                    for r in sec.iter_relocations())
        symbols: dict[int, list[tuple[str, int, int, str, str, str]]] = {}
        for sym in symtab.iter_symbols():
            shndx = sym["st_shndx"]
            if isinstance(shndx, int) and sym["st_info"]["type"] not in ("STT_SECTION", "STT_FILE"):
                symbols.setdefault(shndx, []).append((sym.name, sym["st_value"], sym["st_size"],
                                                      sym["st_info"]["type"], sym["st_info"]["bind"],
                                                      sym["st_other"]["visibility"]))
        out = {}
        for i, sec in enumerate(elf.iter_sections()):
            if not sec["sh_flags"] & 0x2:  # SHF_ALLOC
                continue
            nobits = sec["sh_type"] == "SHT_NOBITS"
            assert sec.name not in out, f"{obj}: two sections {sec.name}"
            out[sec.name] = Section(sec["sh_type"], sec["sh_flags"], sec["sh_addralign"],
                                    bytes(sec["sh_size"]) if nobits else sec.data(),
                                    tuple(relocs.get(i, ())), tuple(sorted(symbols.get(i, ()))))
        return out


def _first_difference(before: tuple | bytes, after: tuple | bytes) -> int:
    """The first index where they differ (or the shorter's length)."""
    n = min(len(before), len(after))
    return next((i for i in range(n) if before[i] != after[i]), n)


def differences(before: Section, after: Section) -> list[str]:
    """What differs between one section's two versions (empty: the same), each at its first place."""
    out = [f"{field}: {getattr(before, field)} -> {getattr(after, field)}" for field in ("type", "flags", "align")
           if getattr(before, field) != getattr(after, field)]
    for field in ("symbols", "relocs"):
        old, new = getattr(before, field), getattr(after, field)
        if old != new:
            i = _first_difference(old, new)
            out.append(f"{field} ({len(old)} -> {len(new)}) differ from #{i}: {old[i:i + 2]} -> {new[i:i + 2]}")
    if before.data != after.data:
        at = _first_difference(before.data, after.data)
        owner = [s[0] for s in after.symbols if s[1] <= at < s[1] + max(s[2], 1)]
        out.append(f"bytes ({len(before.data)} -> {len(after.data)} B) differ from +{at} ({owner or 'no symbol'}): "
                   f"{before.data[at:at + 16].hex()} -> {after.data[at:at + 16].hex()}")
    return out


def compare_objects(before: dict[str, Path], after: dict[str, Path]) -> dict[tuple[str, str], list[str]]:
    """(unit, section) -> what differs, for every unit and allocated section of either side."""
    out: dict[tuple[str, str], list[str]] = {}
    for unit in sorted(before.keys() | after.keys()):
        if unit not in before or unit not in after:
            out[(unit, "*")] = [f"unit only {'after' if unit in after else 'before'}"]
            continue
        old, new = read_sections(before[unit]), read_sections(after[unit])
        for name in sorted(old.keys() | new.keys()):
            if name not in old or name not in new:
                there = new.get(name) or old[name]
                found = [f"only {'after' if name in new else 'before'}: symbols {[s[0] for s in there.symbols]}"]
            else:
                found = differences(old[name], new[name])
            if found:
                out[(unit, name)] = found
    return out


def demangle(text: str) -> str:
    """text with its C++ symbol names demangled (arm-none-eabi-c++filt), also inside section names."""
    names = sorted(set(re.findall(r"_Z\w+", text)))
    if not names or shutil.which("arm-none-eabi-c++filt") is None:
        return text
    plain = subprocess.run(["arm-none-eabi-c++filt"], input="\n".join(names), capture_output=True,
                           text=True).stdout.splitlines()
    table = dict(zip(names, plain, strict=True)) if len(plain) == len(names) else {}
    return re.sub(r"_Z\w+", lambda m: table.get(m[0], m[0]), text)
