"""The call-graph stack bound (microforge.project.stackbound) on small programs compiled here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from microforge.project import stackbound

pytestmark = pytest.mark.skipif(shutil.which("arm-none-eabi-g++") is None, reason="needs gcc-arm-none-eabi")

# a.cpp: the "interpreter" (calls kernels through a registration table it does not define);
# b.cpp: two "kernels" registered in data, one of which calls a routine of its own through a
# pointer it takes in code.
A = """
struct Reg { int (*eval)(int); };
extern const Reg* regs[];
void mf_app_loop() { volatile char buf[100]; buf[0] = regs[0]->eval(buf[1]); }
void mf_app_setup() { volatile char buf[16]; buf[0] = 1; }
"""
B = """
struct Reg { int (*eval)(int); };
namespace {
__attribute__((noinline)) int small_routine(int x) { volatile char b[8]; b[0] = x; return b[0]; }
__attribute__((noinline)) int big_unused_routine(int x) { volatile char b[4000]; b[0] = x; return b[0]; }
int (*volatile pick)(int) = nullptr;
__attribute__((noinline)) int eval_a(int x) {
  volatile char b[300];
  int (*f)(int) = x ? small_routine : small_routine;
  pick = f;
  b[0] = pick(x);
  return b[0];
}
__attribute__((noinline)) int eval_b(int x) { volatile char b[40]; b[0] = x; return b[0]; }
const Reg kA{eval_a};
const Reg kB{eval_b};
}
extern const Reg* regs[];
const Reg* regs[] = {&kA, &kB};
"""
RECURSIVE = """
__attribute__((noinline)) int f(int x) { volatile char b[16]; b[0] = x; return x ? f(x - 1) + b[0] : 0; }
void mf_app_loop() { f(3); }
void mf_app_setup() {}
"""


def _build(tmp: Path, sources: dict[str, str]) -> tuple[stackbound.CallGraph, stackbound.AddressTaken, set[str]]:
    objs = []
    for name, text in sources.items():
        (tmp / f"{name}.cpp").write_text(text)
        obj = tmp / f"{name}.o"
        subprocess.run(["arm-none-eabi-g++", "-mcpu=cortex-m4", "-mthumb", "-Os", "-fno-exceptions",
                        "-ffunction-sections", "-fdata-sections", "-fstack-usage", "-fcallgraph-info=su",
                        "-c", str(tmp / f"{name}.cpp"), "-o", str(obj)], check=True)
        objs.append(obj)
    taken = stackbound.address_taken(objs, "arm-none-eabi-objdump")
    graph = stackbound.parse(sorted(tmp.glob("*.ci")))
    linked = {stackbound.symbol(t) for t in graph.frames} - {"_ZN12_GLOBAL__N_118big_unused_routineEi"}
    return graph, taken, linked


def test_indirect_calls_reach_registered_functions_and_own_routines(tmp_path: Path) -> None:
    graph, taken, linked = _build(tmp_path, {"a": A, "b": B})
    result = stackbound.bound(graph, taken, linked)
    assert result.bytes is not None
    names = " -> ".join(result.path)
    assert names.startswith("void mf_app_loop()") and "eval_a" in names and "small_routine" in names
    frames = {graph.names[t]: f for t, f in graph.frames.items()}
    deepest = sum(frames[n] for n in result.path)
    assert result.bytes == deepest + stackbound.ENTRY_ALLOWANCE
    assert "big_unused_routine" not in names  # not kept by the link
    assert result.bytes < 1000


def test_recursion_has_no_bound(tmp_path: Path) -> None:
    graph, taken, linked = _build(tmp_path, {"r": RECURSIVE})
    result = stackbound.bound(graph, taken, linked)
    assert result.bytes is None and "recursion" in result.why


def test_an_external_call_costs_the_allowance(tmp_path: Path) -> None:
    graph, taken, linked = _build(tmp_path, {"e": "extern int ext(int);\nvoid mf_app_loop() { ext(1); }\n"
                                                  "void mf_app_setup() {}\n"})
    result = stackbound.bound(graph, taken, linked)
    assert result.bytes is not None and result.path[-1] == "int ext(int)"
    frames = {graph.names[t]: f for t, f in graph.frames.items()}
    assert result.bytes == frames["void mf_app_loop()"] + stackbound.EXTERNAL_CALL + stackbound.ENTRY_ALLOWANCE
