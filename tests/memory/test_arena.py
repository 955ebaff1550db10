"""Memory: the arena `microforge inspect` reports is exactly what the firmware needs (it runs
with that arena in QEMU, bit-exact, and a 16-byte smaller one is refused with the shortfall), and
a model too big for a board is refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from microforge.boards import get_boards
from microforge.cli import main as cli_main
from microforge.device.envs import read_envs
from microforge.device.protocol import DeviceClient, DeviceError
from microforge.device.reference import Reference, to_bytes
from microforge.device.runner import build, start
from microforge.lower.lowering import lower
from microforge.model import read_model
from support import EXAMPLES
from support.make_models import FC, FLOAT32, Writer
from support.zoo import select, uses_float_libm

needs_arm = pytest.mark.qemu


def _inspect(model: Path, board: str, capsys) -> dict:
    assert cli_main(["inspect", str(model), "--board", board, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["boards"][board]


def _boot(project: Path, arena: int, monkeypatch) -> tuple[DeviceClient, object]:
    monkeypatch.setenv("PLATFORMIO_BUILD_FLAGS", f"-D MF_ARENA_BYTES={arena}")
    spec = {s.name: s for s in read_envs(project)}["qemu-m4"]
    build_dir = build(project, "qemu-m4")
    transport = start(spec, build_dir, None, 115200, sink=lambda b: None, project=project)
    return DeviceClient(transport), transport


ARENA_MODELS = [EXAMPLES / "sine_int8_float_io.tflite"] + [
    pytest.param(z.path, marks=pytest.mark.shared_models) for z in select("firmware")]
TFLM_ARENA = {z.path: z.tflm_m4["arena"] for z in select("firmware") if z.tflm_m4 is not None}


@needs_arm
@pytest.mark.parametrize("model", ARENA_MODELS, ids=lambda p: p.stem)
def test_firmware_runs_with_exactly_the_reported_arena(model: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    if not model.is_file():
        pytest.skip(f"{model} not present (../shared is optional)")
    arena = _inspect(model, "qemu-m4", capsys)["arena_bytes"]
    tflm = TFLM_ARENA.get(model)
    if tflm is not None:  # TFLM's whole arena on the same 32-bit core (anchors.md)
        assert arena <= tflm, f"{arena} B, TFLM needs {tflm} B"
    project = tmp_path / "p"
    assert cli_main(["new", "--model", str(model), "--board", "qemu-m4", "--output", str(project)]) == 0
    capsys.readouterr()

    client, transport = _boot(project, arena, monkeypatch)
    try:
        client.wait_boot(30)
        assert client.info().arena_bytes == arena
        ref = Reference(project / "model" / model.name)
        for inputs in ref.random_inputs(3, 2):
            client.load(to_bytes(inputs))
            want = [np.ascontiguousarray(a).tobytes() for a in ref.run(inputs)]
            got = client.run().outputs
            # float SOFTMAX/LOGISTIC/TANH: newlib's libm may differ in the last bit (test_zoo_models)
            assert got == want if not uses_float_libm(model) else [len(g) for g in got] == [len(w) for w in want]
        client.exit()
    finally:
        transport.close()

    client, transport = _boot(project, arena - 16, monkeypatch)
    try:
        with pytest.raises(DeviceError, match=f"arena-too-small-op--1-needs-{arena}-has-{arena - 16}"):
            client.wait_boot(30)
    finally:
        transport.close()


FULL_PLAN_MODELS = [EXAMPLES / "sine_int8.tflite", EXAMPLES / "sine_float.tflite"] + [
    pytest.param(z.path, marks=pytest.mark.shared_models) for z in select("firmware")]
FULL_PLAN_SLACK = 1024  # issue 23: the runtime's state beyond the activations, at most


@pytest.mark.parametrize("model", FULL_PLAN_MODELS, ids=lambda p: p.stem)
def test_full_plan_arena_is_the_activations(model: Path, capsys) -> None:
    """Every fully planned model's whole arena (inspect's figure for qemu-m4, from the probe build's
    model::kArenaSize where the compiler is here) is within 1 KiB of its activations: in fact the
    activations 16-aligned, the lowering's figure (one source for inspect, the fit check and model.h)."""
    if not model.is_file():
        pytest.skip(f"{model} not present (../shared is optional)")
    lowering = lower(read_model(model), get_boards(["qemu-m4"]))
    if not lowering.full_plan:
        pytest.skip(f"{model.name}: not fully planned (an operator is prepared on the device)")
    assert cli_main(["inspect", str(model), "--board", "qemu-m4", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    memory, arena = report["memory"], report["boards"]["qemu-m4"]["arena_bytes"]
    assert arena == memory["full_plan_arena_bytes"] == lowering.arena_bytes == -(-memory["activation_bytes"] // 16) * 16
    assert arena <= memory["activation_bytes"] + FULL_PLAN_SLACK


def _big_model(path: Path, megabytes: int = 2) -> Path:
    w = Writer()
    cols = 256
    rows = megabytes * 1024 * 1024 // (4 * cols)
    x = w.tensor("x", [1, cols], FLOAT32)
    wt = w.tensor("w", [rows, cols], FLOAT32, np.full((rows, cols), 0.5, np.float32))
    y = w.tensor("y", [1, rows], FLOAT32)
    w.op(FC, [x, wt, -1], [y], 0)
    path.write_bytes(w.finish([x], [y], {FC: 1}))
    return path


def test_model_too_big_for_nano33ble_is_refused_with_figures(tmp_path: Path, capsys) -> None:
    model = _big_model(tmp_path / "big.tflite")
    out = tmp_path / "out"
    code = cli_main(["new", "--model", str(model), "--board", "qemu-m4", "--board", "nano33ble",
                     "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 7
    assert "does not fit nano33ble" in err and "qemu-m4" not in err.split("fix:")[0]
    budget = get_boards(["nano33ble"])[0].flash_bytes  # what the catalogue says the core leaves free
    assert f"{budget:,} B" in err and f"model {model.stat().st_size:,} B" in err
    assert "fix:" in err and "--force" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.tflite"]

    assert cli_main(["inspect", str(model), "--board", "nano33ble", "--json"]) == 7
    report = json.loads(capsys.readouterr().out)["boards"]["nano33ble"]
    assert not report["fits"] and report["margin"]["flash"] < 0

    assert cli_main(["new", "--model", str(model), "--board", "nano33ble", "--output", str(out), "--force"]) == 0
    assert (out / "platformio.ini").is_file()
