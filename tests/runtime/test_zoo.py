"""Zoo models end to end through the ASan/UBSan driver: the stored goldens and 20 seeded random
inputs, bit-exact against tflite-micro. Skips (naming the ops) models whose ops are not all
registered in the runtime."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rt_common import ours, random_inputs, shared_model, tflm  # noqa: E402

ZOO = {
    "kws_ref_model": "mlperf_tiny/kws/kws_ref_model.tflite",
    "vww_96_int8": "mlperf_tiny/vww/vww_96_int8.tflite",
    "pretrainedResnet_quant": "mlperf_tiny/ic/pretrainedResnet_quant.tflite",
    "person_detect": "tflm/person_detection/person_detect.tflite",
    "micro_speech_quantized": "tflm/micro_speech/micro_speech_quantized.tflite",
}


def _missing_ops(path: Path) -> list[str]:
    model_mod = pytest.importorskip("microforge.model")
    ops_mod = pytest.importorskip("microforge.model.ops")
    info = model_mod.read_model(path)
    return sorted({f"{op.op} v{op.version}" for op in info.operators if ops_mod.kernel_for(op) is None})


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model(driver, name):
    path = shared_model(ZOO[name])
    missing = _missing_ops(path)
    if missing:
        pytest.skip(f"{name}: ops not registered: {', '.join(missing)}")
    data = path.read_bytes()
    golden_path = path.parents[len(Path(ZOO[name]).parts) - 1] / "golden" / f"{name}.npz"
    if golden_path.is_file():
        golden = np.load(golden_path)
        n = sum(1 for k in golden.files if k.startswith("in"))
        assert n > 0
        inputs = [golden[f"in{k}_0"] for k in range(n)]
        expect = [golden[f"out{k}_0"].tobytes().hex() for k in range(n)]
        got = ours(driver, path, inputs)
        assert got == expect, f"{name} golden"
        assert got == tflm(data, inputs)
    inputs = random_inputs(data, 20, seed=1234)
    want = tflm(data, inputs)
    assert ours(driver, path, inputs) == want
    assert len(set(want)) > 1
