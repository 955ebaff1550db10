"""Replays the malformed-model corpus through the runtime under ASan/UBSan, and runs the fuzzer briefly.

Every file in tests/fuzz/corpus goes through load-and-prepare (Interpreter::init, then invoke
when init succeeds) with every kernel registered. Hand-made models must give exactly the status
their manifest entry names; fuzzer findings (crash-*) must give any status, never a crash.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
SRC = ROOT / "runtime" / "src"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
MODELS = sorted(p.name for p in CORPUS.glob("*.tflite"))
STATUSES = {
    "ok",
    "bad-model",
    "unsupported-op",
    "unsupported-type",
    "arena-too-small",
    "bad-plan",
    "bad-argument",
    "kernel-error",
}


def compiler() -> str:
    for cxx in ("clang++", "g++"):
        if shutil.which(cxx):
            return cxx
    pytest.skip("no C++ compiler")


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz_replay")
    exe = out / "replay"
    cmd = [
        compiler(),
        "-std=c++17",
        "-fno-exceptions",
        "-fno-rtti",
        "-g",
        "-O1",
        "-fsanitize=address,undefined",
        "-fno-sanitize-recover=all",
        "-DMF_FUZZ_REPLAY",
        f"-I{SRC}",
        str(HERE / "fuzz_load.cpp"),
        *map(str, sorted((SRC / "microforge").rglob("*.cpp"))),
        "-o",
        str(exe),
    ]
    subprocess.run(cmd, check=True)
    return exe


def run_replay(exe: Path, *args: str) -> str:
    res = subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"replay crashed (exit {res.returncode}):\n{res.stdout}\n{res.stderr[-4000:]}"
    assert "runtime error" not in res.stderr, res.stderr[-4000:]
    return res.stdout


def test_corpus_is_large_and_described() -> None:
    hand_made = [m for m in MODELS if not m.startswith("crash-")]
    assert len(MODELS) >= 20
    missing = [m for m in hand_made if m not in MANIFEST]
    assert not missing, f"add manifest entries (tests/fuzz/make_corpus.py) for {missing}"
    assert len({(CORPUS / m).read_bytes() for m in MODELS}) == len(MODELS), "duplicate models"
    for name, entry in MANIFEST.items():
        assert entry["what"], name
        assert entry["expect"] in STATUSES | {"any"}, name


@pytest.mark.parametrize("name", MODELS)
def test_model_gives_status_not_crash(replay: Path, name: str) -> None:
    out = run_replay(replay, str(CORPUS / name)).split()
    assert len(out) == 2 and out[1] in STATUSES, out
    expect = MANIFEST.get(name, {}).get("expect", "any")
    if expect != "any":
        assert out[1] == expect, f"{name} ({MANIFEST[name]['what']}): got {out[1]}, want {expect}"


def test_arena_one_short_is_too_small(replay: Path) -> None:
    examples = sorted((ROOT / "generator" / "microforge" / "examples").glob("*.tflite"))
    good = [str(CORPUS / "ok-fc.tflite"), *map(str, examples)]
    exact = run_replay(replay, *good).split()[1::2]
    assert exact == ["ok"] * len(good)
    short = run_replay(replay, "--short", "1", *good).split()[1::2]
    assert short == ["arena-too-small"] * len(good)


def libfuzzer_available(tmp: Path) -> bool:
    if shutil.which("clang++") is None:
        return False
    src = tmp / "probe.cpp"
    src.write_text('extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n')
    res = subprocess.run(
        ["clang++", "-fsanitize=fuzzer,address,undefined", str(src), "-o", str(tmp / "probe")], capture_output=True
    )
    return res.returncode == 0


def test_fuzz_20_seconds(tmp_path: Path) -> None:
    if not libfuzzer_available(tmp_path):
        pytest.skip("clang++ with libFuzzer not available (Debian: clang, libclang-rt-14-dev)")
    env = {**os.environ, "MF_FUZZ_DIR": str(tmp_path / "fuzz")}
    res = subprocess.run(
        ["bash", str(HERE / "run_fuzz.sh"), "20"], capture_output=True, text=True, env=env, timeout=600
    )
    tail = (res.stdout + res.stderr)[-4000:]
    assert res.returncode == 0, tail
    assert "no findings in 20s" in res.stdout
    assert "stat::number_of_executed_units" in res.stderr + res.stdout
