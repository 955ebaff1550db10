"""The kernel registry (runtime/src/microforge/kernels/registry.h) is the one list of kernels: the
generator reads it (microforge.model.ops.KERNELS), test drivers and the fuzzer expand it. Its rows agree
with TFLite's schema and with the kernels' sources."""

from __future__ import annotations

import re

import tflite
from microforge.model.ops import KERNELS, REGISTRY
from microforge.resources import runtime_dir

SRC = runtime_dir() / "src"


def test_builtin_codes_are_tflites() -> None:
    for op, kernel in KERNELS.items():
        assert getattr(tflite.BuiltinOperator, op) == kernel.builtin_code, op


def test_every_row_names_a_header_and_a_registration_its_sources_define() -> None:
    sources = "\n".join(p.read_text() for p in (SRC / "microforge" / "kernels").rglob("*.cpp"))
    for kernel in KERNELS.values():
        assert (SRC / kernel.header).is_file(), kernel.header
        lo, hi = kernel.versions
        assert 1 <= lo <= hi, kernel
        assert re.search(rf"namespace {kernel.namespace} \{{.*?const Registration kRegistration = \{{kBuiltinCode,"
                         rf"\s*kMinVersion,\s*kMaxVersion,", sources, re.S), kernel.namespace


def test_no_kernel_states_its_code_or_versions_outside_the_registry() -> None:
    for path in (SRC / "microforge" / "kernels").rglob("*"):
        if path.suffix not in (".h", ".cpp") or path.name == "registry.h":
            continue
        text = path.read_text()
        assert not re.search(r"kBuiltinCode\s*=", text), path.name
        assert not re.search(r"Registration k\w+ = \{kBuiltinCode,\s*\d", text), path.name


def test_the_generator_reads_every_row() -> None:
    rows = re.findall(r"^\s*X\((\w+),", (SRC / REGISTRY).read_text(), re.M)
    assert rows and sorted(rows) == sorted(KERNELS)
