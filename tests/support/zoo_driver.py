"""A zoo model end to end through the runtime's host driver, bit-exact against tflite-micro
(tests/runtime/test_zoo.py, and with the fast kernels tests/runtime/test_fast_kernels.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from support.rt_common import ours, random_inputs, shared_model, tflm
from support.zoo import by_name


def _missing_ops(path: Path) -> list[str]:
    model_mod = pytest.importorskip("microforge.model")
    ops_mod = pytest.importorskip("microforge.model.ops")
    info = model_mod.read_model(path)
    return sorted({f"{op.op} v{op.version}" for op in info.operators if ops_mod.kernel_for(op) is None})


def check_zoo_model(driver: Path, name: str) -> None:
    """The zoo model `name` (suite "driver") on the driver: goldens and 20 random inputs, as TFLM."""
    rel = by_name("driver")[name].rel
    path = shared_model(rel)
    missing = _missing_ops(path)
    if missing:
        pytest.skip(f"{name}: ops not registered: {', '.join(missing)}")
    data = path.read_bytes()
    golden_path = path.parents[len(Path(rel).parts) - 1] / "golden" / f"{name}.npz"
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
