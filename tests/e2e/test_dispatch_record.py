"""The generator's mirror of the fast kernels' dispatch (microforge.lower.build_flags) held against the
dispatch itself, as MF_VERIFY_PLAN holds planned_ops against the kernels' prepare: each model is
built for qemu-m4 with every routine compiled in and -D MF_RECORD_ROUTINES=1, runs one inference,
and the routines its selectors were asked for (mf-info's m-mf-routines line) must be exactly the
MF_MODEL_CONV_TILES / _DEPTHWISE_ROWS / _FC_QUADS masks the generator emitted for it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from microforge.device.envs import read_envs
from microforge.device.protocol import DeviceClient
from microforge.device.runner import build, start
from microforge.project.buildhash import project_hash
from microforge.project.scaffold import generate
from support import EXAMPLES, shared_model
from support.fast_models import MODELS

pytestmark = pytest.mark.qemu

FAMILIES = {"MF_MODEL_CONV_TILES": ("conv", 15), "MF_MODEL_DEPTHWISE_ROWS": ("dw", 15),
            "MF_MODEL_FC_QUADS": ("fc", 255)}
SYNTHETIC = sorted(n for n in MODELS if n.startswith(("conv", "dw", "fc")))
ZOO = ["mlperf_tiny/kws/kws_ref_model.tflite", "mlperf_tiny/vww/vww_96_int8.tflite",
       "mlperf_tiny/ic/pretrainedResnet_quant.tflite", "mlperf_tiny/ad/ad01_int8.tflite"]


def _recorded(project: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(the masks the generator emitted, the masks the firmware recorded) per family."""
    ini = project / "platformio.ini"
    text = ini.read_text()
    predicted = {FAMILIES[m[1]][0]: int(m[2]) for m in re.finditer(r"-D (MF_MODEL_\w+)=(\d+)", text)
                 if m[1] in FAMILIES}
    for flag, (_, everything) in FAMILIES.items():  # every routine compiled in, so any can be asked for
        text = re.sub(rf" -D {flag}=\d+", "", text)
        text = re.sub(r"^build_flags =", f"build_flags = -D {flag}={everything}", text, count=1, flags=re.M)
    ini.write_text(text.replace("-D MF_PORT_MPS2=1", "-D MF_PORT_MPS2=1 -D MF_RECORD_ROUTINES=1"))
    build(project, "qemu-m4")
    spec = next(s for s in read_envs(project) if s.name == "qemu-m4")
    transport = start(spec, project / ".pio" / "build" / "qemu-m4", None, 115200, sink=lambda _: None,
                      project=project)
    try:
        model = next((project / "model").glob("*.tflite"))
        client = DeviceClient(transport, expected_build=project_hash(project, model))
        client.wait_boot(30.0)
        client.load(np.random.default_rng(5).integers(0, 256, client.info().input_bytes, np.uint8).tobytes())
        client.run()
        line = next(x for x in client.command("mf-info") if x.startswith("m-mf-routines-"))
    finally:
        transport.close()
    m = re.fullmatch(r"m-mf-routines-conv-(\d+)-dw-(\d+)-fc-(\d+)", line)
    assert m, line
    return predicted, {"conv": int(m[1]), "dw": int(m[2]), "fc": int(m[3])}


def _check(model: Path, tmp_path: Path) -> None:
    predicted, recorded = _recorded(generate(model, ["qemu-m4"], tmp_path / "p"))
    for family, got in recorded.items():
        # a family the generator emitted no mask for keeps the runtime's default (all built): nothing to hold
        if family in predicted:
            want = predicted[family]
            assert got == want, f"{family}: the dispatch asked for {got:#x}, the generator built {want:#x}"


@pytest.mark.parametrize("name", SYNTHETIC)
def test_generator_flags_are_the_dispatch_of_synthetic_models(name: str, tmp_path: Path) -> None:
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(MODELS[name]())
    _check(model, tmp_path)


def test_generator_flags_are_the_dispatch_of_the_sine_model(tmp_path: Path) -> None:
    _check(EXAMPLES / "sine_int8.tflite", tmp_path)


@pytest.mark.shared_models
@pytest.mark.parametrize("rel", ZOO, ids=[Path(z).stem for z in ZOO])
def test_generator_flags_are_the_dispatch_of_zoo_models(rel: str, tmp_path: Path) -> None:
    _check(shared_model(rel), tmp_path)
