"""Prints fuzz_regs.inc: one MF_REG(<namespace below mf::kernels>) per kRegistration definition.

    python3 tests/fuzz/gen_regs.py runtime/src/microforge/kernels/*.cpp > fuzz_regs.inc

Finds every `Registration kRegistration` definition and the namespaces around it (comments and
string literals are ignored), so kernels added later, and files defining several registrations
(e.g. add/sub/mul in one file), are all registered.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_STRIP = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"', re.S)
_TOKEN = re.compile(r"namespace\s+([\w:]+)\s*\{|namespace\s*\{|\{|\}|Registration\s+kRegistration\s*[={]")


def registrations(source: str) -> list[str]:
    found: list[str] = []
    stack: list[list[str] | None] = []  # per open brace: the namespace names it opened, or None
    for m in _TOKEN.finditer(_STRIP.sub(" ", source)):
        text = m.group(0)
        if text.startswith("namespace"):
            stack.append(m.group(1).split("::") if m.group(1) else ["<anonymous>"])
        elif text == "{":
            stack.append(None)
        elif text == "}":
            if stack:
                stack.pop()
        else:
            names = [n for level in stack if level for n in level]
            if names[:2] == ["mf", "kernels"] and len(names) > 2 and "<anonymous>" not in names:
                found.append("::".join(names[2:]))
            if text.endswith("{"):
                stack.append(None)
    return found


def main(paths: list[str]) -> None:
    for path in sorted(paths):
        for name in registrations(Path(path).read_text()):
            print(f"MF_REG({name})")


if __name__ == "__main__":
    main(sys.argv[1:])
