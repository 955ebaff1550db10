"""`microforge new` and plain cookiecutter: the project's contents, and every refusal clean."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from microforge.cli import main as cli_main
from microforge.model import read_model
from support import EXAMPLES, ROOT
from support.make_models import FC, FLOAT32, Writer

BOARDS = ["qemu-m4", "host", "nano33ble"]


def _new(model: Path, out: Path, *extra: str, boards=BOARDS) -> int:
    args = ["new", "--model", str(model), "--output", str(out), *extra]
    for b in boards:
        args += ["--board", b]
    return cli_main(args)


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir())


def test_project_contents(tmp_path: Path, sine_int8: Path) -> None:
    out = tmp_path / "sine"
    assert _new(sine_int8, out) == 0
    ini = (out / "platformio.ini").read_text()
    assert re.findall(r"^\[env:([\w-]+)\]", ini, re.M) == BOARDS
    assert "\n[env]\n" in ini
    assert "platform = symlink://${PROJECT_DIR}/platform/microforge" in ini
    assert "platform = nordicnrf52\nboard = nano33ble\nframework = arduino" in ini
    data_h = (out / "src/model/model_data.h").read_text()
    assert "alignas(16) inline constexpr uint8_t kData[]" in data_h
    # the array holds exactly the model's bytes
    body = data_h.split("kData[] = {", 1)[1].split("};", 1)[0]
    assert bytes(int(v, 16) for v in re.findall(r"0x([0-9a-f]{2})", body)) == sine_int8.read_bytes()
    ops_cpp = (out / "src/model/model_ops.cpp").read_text()
    # sine's FULLY_CONNECTED nodes are all planned: eval-only there, the full kernel where the host
    # env checks the plan (MF_VERIFY_PLAN), and only there
    assert re.findall(r"MF_PLANNED\((\w+)\),", ops_cpp) == ["fully_connected"]
    assert "const mf::PlannedOp kPlannedOps[kOperators]" in (out / "src/model/model_plan.cpp").read_text()
    envs = dict(re.findall(r"^\[env:([\w-]+)\]\n(.*?)(?=^\[|\Z)", ini, re.M | re.S))
    assert [b for b in BOARDS if "-D MF_VERIFY_PLAN=1" in envs[b]] == ["host"]
    answers = json.loads((out / ".cookiecutter.json").read_text())
    assert answers["model_file"] == "sine_int8.tflite" and answers["boards"] == ",".join(BOARDS)
    assert (out / "model/sine_int8.tflite").read_bytes() == sine_int8.read_bytes()
    assert (out / "src/main.cpp").is_file()
    assert (out / "lib/microforge-runtime/library.json").is_file()
    assert (out / "platform/microforge/platform.json").is_file()
    assert list((out / "tests").glob("test_*.py"))
    readme = (out / "README.md").read_text()  # how to build, flash and test this project
    assert "model/sine_int8.tflite" in readme and "pio run -e nano33ble -t upload" in readme
    assert "{{" not in readme and "{%" not in readme
    assert _leftovers(tmp_path) == ["sine"]


def test_ops_listed_are_exactly_the_models(tmp_path: Path, sine_float_io: Path) -> None:
    out = tmp_path / "p"
    assert _new(sine_float_io, out, boards=["host"]) == 0
    ops_cpp = (out / "src/model/model_ops.cpp").read_text()
    names = re.findall(r"MF_(?:PLANNED|FULL)\(\w+\),  // (\w+)\n", ops_cpp)
    assert sorted(names) == sorted({op.op for op in read_model(sine_float_io).operators})


def test_plain_cookiecutter_gives_the_same_project(tmp_path: Path, sine_int8: Path) -> None:
    ours = tmp_path / "ours"
    assert _new(sine_int8, ours, boards=["qemu-m4", "host"]) == 0
    plain = tmp_path / "plain"
    subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(plain), str(ROOT / "cookiecutter-template"),
         f"model_path={sine_int8}", "boards=qemu-m4,host", "project_name=ours"],
        check=True, capture_output=True, text=True,
    )
    made = plain / "ours"
    for rel in ("platformio.ini", "src/model/model.h", "src/model/model_ops.cpp", "src/model/model_plan.cpp",
                "src/model/model_data.h", "src/main.cpp"):
        assert (made / rel).read_text() == (ours / rel).read_text(), rel


def _refused(capsys, code: int, *needles: str) -> str:
    err = capsys.readouterr().err
    assert code != 0
    for n in needles:
        assert n in err, err
    assert "fix:" in err
    return err


def test_refuses_missing_model(tmp_path: Path, capsys) -> None:
    code = _new(tmp_path / "missing.tflite", tmp_path / "out")
    _refused(capsys, code, "not found")
    assert _leftovers(tmp_path) == []


def test_refuses_corrupt_model(tmp_path: Path, sine_int8: Path, capsys) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(sine_int8.read_bytes()[:700])
    code = _new(bad, tmp_path / "out")
    _refused(capsys, code, "bad.tflite")
    assert _leftovers(tmp_path) == ["bad.tflite"]


def test_refuses_unsupported_ops_naming_each(tmp_path: Path, capsys) -> None:
    w = Writer()
    x = w.tensor("x", [1, 4], FLOAT32)
    y = w.tensor("y", [1, 4], FLOAT32)
    z = w.tensor("z", [1, 4], FLOAT32)
    wt = w.tensor("w", [4, 4], FLOAT32, __import__("numpy").eye(4, dtype="float32"))
    out = w.tensor("out", [1, 4], FLOAT32)
    w.op(8, [x], [y])           # FLOOR
    w.op(47, [y], [z])          # EXP
    w.op(FC, [z, wt, -1], [out], 0)
    model = tmp_path / "gaps.tflite"
    model.write_bytes(w.finish([x], [out], {}))
    code = _new(model, tmp_path / "out")
    err = _refused(capsys, code, "operator 0: FLOOR", "operator 1: EXP")
    assert "FULLY_CONNECTED" not in err.split("fix:")[0].split("lacks")[1].split("\n", 1)[1]
    assert _leftovers(tmp_path) == ["gaps.tflite"]


def test_refuses_existing_output_without_force(tmp_path: Path, sine_int8: Path, capsys) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    code = _new(sine_int8, out)
    _refused(capsys, code, "not empty", "--force")
    assert (out / "precious.txt").read_text() == "keep me"
    assert _leftovers(tmp_path) == ["out"]
    assert _new(sine_int8, out, "--force") == 0
    assert not (out / "precious.txt").exists() and (out / "platformio.ini").is_file()
    assert _leftovers(tmp_path) == ["out"]


def test_refuses_unknown_board_listing_known(tmp_path: Path, sine_int8: Path, capsys) -> None:
    code = _new(sine_int8, tmp_path / "out", boards=["qemu-m4", "esp8266-toaster"])
    err = _refused(capsys, code, "esp8266-toaster")
    for known in BOARDS:
        assert known in err
    assert _leftovers(tmp_path) == []


def test_console_script_exit_code(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("microforge")
    r = subprocess.run([str(exe), "new", "--model", str(tmp_path / "x.tflite"), "--board", "host",
                        "--output", str(tmp_path / "o")], capture_output=True, text=True,
                       env={**os.environ})
    assert r.returncode != 0 and "error:" in r.stderr and not (tmp_path / "o").exists()


def test_inspect_json(capsys, sine_float_io: Path) -> None:
    assert cli_main(["inspect", str(sine_float_io), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["ops"] == {"DEQUANTIZE": 1, "FULLY_CONNECTED": 3, "QUANTIZE": 1}
    assert s["macs"] == 1 * 16 + 16 * 16 + 16 * 1
    assert s["parameters"] == (16 + 16) + (256 + 16) + (16 + 1)
    assert s["inputs"][0]["dtype"] == "float32" and s["inputs"][0]["shape"] == [1, 1]
    assert EXAMPLES.is_dir()


def test_new_leaves_no_temporary_files(tmp_path: Path, sine_int8: Path, monkeypatch) -> None:
    """cookiecutter copies the hook to a temporary file it never deletes; `microforge new` gives
    the call a temporary folder of its own and removes it."""
    import tempfile

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert cli_main(["new", "--model", str(sine_int8), "--board", "qemu-m4", "--output", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "platformio.ini").is_file()
    assert list(scratch.iterdir()) == []
