"""A static bound on the firmware's stack, from GCC's ``-fstack-usage -fcallgraph-info=su`` output.

Every translation unit of the probe build (runtime, generated model sources) and the firmware's
own ``main.cpp`` / ``protocol_io.cpp`` is compiled with ``-fcallgraph-info=su``: GCC writes a
``.ci`` file next to each object (VCG graph: one node per function with its frame in bytes, one
edge per call site). The bound is the deepest path from the firmware's entry points
(``mf_app_setup``, ``mf_app_loop``) through that graph, where

- a call through a pointer (``__indirect_call``) in a function of object O may reach: the
  functions of O whose address O's code takes (a fast kernel picking one of its routines), or,
  when O's code takes none, every function whose address is taken anywhere (the interpreter
  calling a kernel's parse/prepare/eval through its registration table). "Address taken": a
  relocation other than a call refers to the function (in code: from a .text section), outside
  debug and unwind sections. Only functions the probe's link kept count. Pushes inside naked
  assembly routines are invisible to GCC (they report 0 bytes): ``ENTRY_ALLOWANCE`` covers them;
- a call to a function outside these sources (libc's memcpy/memset, the port, the framework's
  serial driver) counts ``EXTERNAL_CALL`` bytes;
- ``ENTRY_ALLOWANCE`` covers the port's ``main`` / Arduino ``loop()`` frame that calls the
  entry points and one interrupt arriving at the deepest point (an FP-extended exception frame of
  104 bytes plus a handler's frame).

Recursion (a cycle of calls, direct or through pointers) or a frame of unbounded dynamic size
makes the bound ``None`` (the caller falls back to an estimate). Under QEMU the firmware paints
its stack and ``mf-info`` reports the high-water mark: tests check that the mark stays within
this bound.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from microforge.resources import template_dir

EXTERNAL_CALL = 128   # bytes for one call into code not compiled here (libc, port, framework)
ENTRY_ALLOWANCE = 256  # the port's main/loop frame + one FP-extended exception frame and its handler
INDIRECT = "__indirect_call"
ENTRY_POINTS = ("mf_app_setup", "mf_app_loop")

_NODE = re.compile(r'node: \{ title: "([^"]+)" label: "([^"]*)"')
_EDGE = re.compile(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"')
_FRAME = re.compile(r"\\n(\d+) bytes \(([a-z,]+)\)")
_CALL_RELOCS = ("CALL", "JUMP", "PLT32")  # R_ARM_THM_CALL, R_ARM_THM_JUMP24, R_X86_64_PLT32, ...
_NOT_CODE_OR_DATA = (".debug", ".ARM.exidx", ".ARM.extab", ".eh_frame", ".rel.debug", ".comment")


def symbol(title: str) -> str:
    """A .ci node title's symbol: a local function's title is "<source>:<symbol>"."""
    return title.rsplit(":", 1)[-1]


@dataclass
class CallGraph:
    frames: dict[str, int] = field(default_factory=dict)        # defined functions: frame bytes
    names: dict[str, str] = field(default_factory=dict)         # title -> readable name
    calls: dict[str, set[str]] = field(default_factory=dict)
    unbounded: set[str] = field(default_factory=set)            # dynamic frames without a bound
    unit: dict[str, set[str]] = field(default_factory=dict)     # title -> .ci stems defining it
    defined_in: dict[str, set[str]] = field(default_factory=dict)  # .ci stem -> titles


@dataclass
class AddressTaken:
    by_unit: dict[str, set[str]] = field(default_factory=dict)  # object stem -> symbols its code takes
    anywhere: set[str] = field(default_factory=set)             # symbols any object takes


@dataclass
class StackBound:
    bytes: int | None       # None: no bound (recursion, unbounded dynamic frame)
    path: list[str]         # the deepest call chain, readable names
    why: str                # how it was computed, or why there is no bound


def parse(ci_files: list[Path]) -> CallGraph:
    g = CallGraph()
    for ci in ci_files:
        text = ci.read_text(errors="replace")
        defined = g.defined_in.setdefault(ci.stem, set())
        for title, label in _NODE.findall(text):
            parts = label.split("\\n")
            g.names.setdefault(title, parts[0] if parts else title)
            m = _FRAME.search(label)
            if m is None:
                continue  # declared here, defined elsewhere (or nowhere we compiled)
            g.frames[title] = max(g.frames.get(title, 0), int(m[1]))
            g.unit.setdefault(title, set()).add(ci.stem)
            defined.add(title)
            if "dynamic" in m[2] and "bounded" not in m[2]:
                g.unbounded.add(title)
        for src, dst in _EDGE.findall(text):
            g.calls.setdefault(src, set()).add(dst)
    return g


def address_taken(objects: list[Path], objdump: str) -> AddressTaken:
    """The functions (and other symbols) whose address each object takes, from its relocations:
    a symbol or a ``.text.<symbol>`` section (as -ffunction-sections names them) referred to by a
    relocation that is not a call, outside the debug and unwind sections."""
    taken = AddressTaken()
    for obj in objects:
        out = subprocess.run([objdump, "-r", str(obj)], capture_output=True, text=True).stdout
        mine = taken.by_unit.setdefault(obj.stem, set())
        section, skip = "", False
        for line in out.splitlines():
            if line.startswith("RELOCATION RECORDS FOR ["):
                section = line[len("RELOCATION RECORDS FOR ["):].rstrip("]:")
                skip = section.startswith(_NOT_CODE_OR_DATA)
                continue
            parts = line.split()
            if skip or len(parts) < 3 or not parts[1].startswith("R_") or any(c in parts[1] for c in _CALL_RELOCS):
                continue
            name = re.split(r"[+-]0x", parts[2])[0].removeprefix(".text.")
            taken.anywhere.add(name)
            if section.startswith((".text", ".rel.text", ".rela.text")):
                mine.add(name)
    return taken


def _indirect_targets(g: CallGraph, f: str, taken: AddressTaken, linked: set[str]) -> set[str]:
    """Where an indirect call in f may land (see the module docstring)."""
    targets: set[str] = set()
    for unit in g.unit.get(f, ()):
        own = {t for t in g.defined_in.get(unit, ()) if symbol(t) in taken.by_unit.get(unit, ())}
        targets |= own if own else {t for t in g.frames if symbol(t) in taken.anywhere}
    return {t for t in targets if symbol(t) in linked}


def bound(g: CallGraph, taken: AddressTaken, linked: set[str],
          roots: tuple[str, ...] = ENTRY_POINTS) -> StackBound:
    """Deepest path from ``roots`` (functions named so, any namespace)."""
    entries = [f for f in g.frames for r in roots if re.search(rf"(^|[ :]){r}\(", g.names.get(f, ""))]
    found = {r for r in roots if any(re.search(rf"(^|[ :]){r}\(", g.names.get(f, "")) for f in entries)}
    if found != set(roots):
        return StackBound(None, [], f"entry point(s) {', '.join(sorted(set(roots) - found))} not in the call graph")
    calls = {f: {c for c in cs if c != INDIRECT} | (_indirect_targets(g, f, taken, linked) if INDIRECT in cs else set())
             for f, cs in g.calls.items()}
    memo: dict[str, tuple[int, list[str]]] = {}
    try:
        depth, path = max(_depth(g, calls, f, memo, set()) for f in entries)
    except _Recursion as exc:
        return StackBound(None, [], f"recursion through {exc}: no static bound")
    unbounded = [g.names.get(f, f) for f in path if f in g.unbounded]
    if unbounded:
        return StackBound(None, [], f"{unbounded[0]} has a dynamic frame without a bound")
    return StackBound(depth + ENTRY_ALLOWANCE, [g.names.get(f, f) for f in path],
                      f"call graph (-fcallgraph-info): deepest path {depth} B + {ENTRY_ALLOWANCE} B for "
                      f"the port's entry frame and one interrupt; {EXTERNAL_CALL} B per call outside our sources")


class _Recursion(Exception):
    pass


def _depth(g: CallGraph, calls: dict[str, set[str]], f: str, memo: dict[str, tuple[int, list[str]]],
           active: set[str]) -> tuple[int, list[str]]:
    """Deepest (bytes, path) from f down."""
    if f in memo:
        return memo[f]
    if f not in g.frames:
        return EXTERNAL_CALL, [f]
    if f in active:
        raise _Recursion(g.names.get(f, f))
    active.add(f)
    deepest: tuple[int, list[str]] = (0, [])
    for callee in sorted(calls.get(f, ())):
        d = _depth(g, calls, callee, memo, active)
        if d[0] > deepest[0]:
            deepest = d
    active.discard(f)
    memo[f] = (g.frames[f] + deepest[0], [f, *deepest[1]])
    return memo[f]


def app_sources() -> list[Path]:
    """The firmware's own sources that call into the runtime: the template's main.cpp and
    protocol_io.cpp."""
    src = template_dir() / "{{cookiecutter.project_slug}}" / "src"
    return [src / "main.cpp", src / "protocol_io.cpp"]


def firmware_bound(work: Path, cxx: Path, flags: list[str], model_src: Path, objects: list[Path],
                   elf: Path, binutils_prefix: str) -> StackBound:
    """Compiles the firmware's app sources next to the probe's objects (``work``, whose .ci files
    are already there: the probe build passes ``-fcallgraph-info=su``) and bounds the stack.
    ``model_src`` holds model/ (the generated headers; model_build.h is stubbed if missing);
    ``objects`` and ``elf`` are the probe's objects and link; ``binutils_prefix`` e.g.
    "arm-none-eabi-" ("" for the host's)."""
    build_h = model_src / "model" / "model_build.h"
    if not build_h.is_file():
        build_h.write_text('#pragma once\nnamespace model {\ninline constexpr char kBuildHash[] = "probe";\n}\n')
    app_objects = []
    for source in app_sources():
        obj = work / f"app_{source.stem}.o"
        r = subprocess.run([str(cxx), *flags, f"-I{source.parent}", "-c", str(source), "-o", str(obj)],
                           cwd=work, capture_output=True, text=True)
        if r.returncode != 0:
            return StackBound(None, [], f"{source.name} did not compile for the call graph: "
                                        f"{r.stderr.strip().splitlines()[-1:] or ['?']}")
        app_objects.append(obj)
    nm = subprocess.run([f"{binutils_prefix}nm", str(elf)], capture_output=True, text=True).stdout
    linked = {parts[-1] for parts in (ln.split() for ln in nm.splitlines()) if len(parts) >= 3}
    taken = address_taken([*objects, *app_objects], f"{binutils_prefix}objdump")
    return bound(parse(sorted(work.rglob("*.ci"))), taken, linked)
