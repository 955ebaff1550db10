"""The full plan (issues 22, 23): a model whose every operator is planned gets its arena, every
tensor's record, the wired nodes and their registrations in model_plan.cpp. On qemu-m4 the firmware
reads no flatbuffer (no model reader linked, no static constructor) and is bit-exact; the host env
(-D MF_VERIFY_PLAN=1) runs the model reader's init too and checks the whole flash state against it
before running, also bit-exact. A corrupted full plan is refused: tests/runtime/test_flash_plan.py."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from microforge.cli import main as cli_main
from microforge.device.envs import read_envs
from microforge.device.protocol import DeviceClient
from microforge.device.reference import Reference, to_bytes
from microforge.device.runner import build, host_command, start
from support import EXAMPLES, SHARED_MODELS

MODELS = [
    EXAMPLES / "sine_int8.tflite",
    pytest.param(SHARED_MODELS / "mlperf_tiny" / "kws" / "kws_ref_model.tflite", marks=pytest.mark.shared_models),
]
READER = ("open_model", "read_tensor", "read_operator")  # tfl:: model reader functions

pytestmark = pytest.mark.qemu


def _symbols(nm: str, elf: Path) -> str:
    return subprocess.run([nm, "-C", str(elf)], capture_output=True, text=True, check=True).stdout


def _bit_exact(project: Path, env: str, model: Path) -> None:
    spec = {s.name: s for s in read_envs(project)}[env]
    transport = start(spec, build(project, env), None, 115200, sink=lambda b: None, project=project)
    try:
        client = DeviceClient(transport)
        client.wait_boot(60)
        ref = Reference(project / "model" / model.name)
        for inputs in ref.random_inputs(5, 3):
            client.load(to_bytes(inputs))
            want = [np.ascontiguousarray(a).tobytes() for a in ref.run(inputs)]
            assert client.run().outputs == want, env
        client.exit()
    finally:
        transport.close()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.stem)
def test_full_plan_firmware_is_bit_exact_and_reads_no_model(model: Path, tmp_path: Path, capsys) -> None:
    if not model.is_file():
        pytest.skip(f"{model} not present (../shared is optional)")
    project = tmp_path / "p"
    assert cli_main(["new", "--model", str(model), "--board", "qemu-m4", "--board", "host",
                     "--output", str(project)]) == 0
    capsys.readouterr()
    assert "-D MF_MODEL_FULL_PLAN=1" in (project / "platformio.ini").read_text()
    plan = (project / "src" / "model" / "model_plan.cpp").read_text()
    assert "const mf::Node kNodes[kOperators]" in plan and "alignas(16) uint8_t kArena[kArenaBytes];" in plan

    for env in ("qemu-m4", "host"):
        _bit_exact(project, env, model)

    arm = _symbols("arm-none-eabi-nm", project / ".pio" / "build" / "qemu-m4" / "firmware.elf")
    assert "_GLOBAL__sub_I" not in arm  # every record, node and the interpreter: constant-initialized
    assert "kTensorRecords" in arm and "kNodes" in arm and " B model::kArena" in arm
    assert not any(f"tfl::{f}" in arm for f in READER), "the qemu-m4 firmware links the model reader"
    assert "verify_full" not in arm
    if shutil.which("nm"):
        host = _symbols("nm", Path(host_command(project / ".pio" / "build" / "host")[0]))
        assert "mf::Interpreter::verify_full() const" in host and "tfl::open_model" in host
