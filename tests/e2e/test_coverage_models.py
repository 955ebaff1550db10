"""The coverage models (tests/models/coverage: every kernel and option the runtime has) through
`microforge new` and the generated firmware: bit-exact with TFLM on 50 seeded random inputs on
`host` and on 10 on `qemu-m4` (skipped without arm-none-eabi-g++ / qemu-system-arm).

Exception: float TANH calls libm's `tanhf`, which newlib (qemu-m4) computes differently from
glibc (TFLM's); its output of cov_libm_float (output 3) is bit-exact on host and within a few
float32 ulps on qemu-m4. Float SOFTMAX / LOGISTIC (outputs 0-2) use the runtime's own expf,
equal to glibc's on every input (tests/runtime/test_float_math.py): exact everywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from microforge.cli import main as cli_main
from microforge.device.verify import verify
from support import ROOT

COVERAGE = ROOT / "tests" / "models" / "coverage"
MODELS = sorted(COVERAGE.glob("*.tflite"))
LIBM_OUTPUTS = {"cov_libm_float": {3}}  # model -> indices of the float TANH outputs
HOST_COUNT, QEMU_COUNT = 50, 10


def test_coverage_models_exist() -> None:
    assert len(MODELS) >= 8, (f"run PYTHONPATH=tests .venv/bin/python -m support.make_models: {COVERAGE} has "
                              f"{len(MODELS)} models")


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, Path]:
    """One generated project per coverage model, with both boards (made once for both tests)."""
    out = {}
    for model in MODELS:
        dest = tmp_path_factory.mktemp("cov") / model.stem
        assert cli_main(["new", "--model", str(model), "--board", "host", "--board", "qemu-m4",
                         "--output", str(dest)]) == 0
        out[model.stem] = dest
    return out


def _assert_exact(report, count: int) -> None:
    assert len(report.results) == count
    bad = [r.index for r in report.results if not r.exact]
    assert not bad, f"{report.model} on {report.env}: inputs {bad[:10]} differ from TFLM"
    assert report.ok and report.exact == count


@pytest.mark.parametrize("model", MODELS, ids=[m.stem for m in MODELS])
def test_host_bit_exact(model: Path, projects: dict[str, Path]) -> None:
    _assert_exact(verify(projects[model.stem], "host", count=HOST_COUNT, seed=21, litert=False), HOST_COUNT)


@pytest.mark.qemu
@pytest.mark.parametrize("model", MODELS, ids=[m.stem for m in MODELS])
def test_qemu_m4_bit_exact(model: Path, projects: dict[str, Path]) -> None:
    report = verify(projects[model.stem], "qemu-m4", count=QEMU_COUNT, seed=22, litert=False)
    if model.stem not in LIBM_OUTPUTS:
        _assert_exact(report, QEMU_COUNT)
        return
    assert len(report.results) == QEMU_COUNT
    for r in report.results:
        for i, (got, want) in enumerate(zip(r.outputs, r.reference, strict=True)):
            if i not in LIBM_OUTPUTS[model.stem]:
                assert got == want, f"{model.stem} on qemu-m4: input {r.index} output {i} differs from TFLM"
                continue
            a, b = (np.frombuffer(bytes.fromhex(h), np.float32) for h in (got, want))
            assert a.shape == b.shape and np.all(np.isfinite(a))
            np.testing.assert_allclose(a, b, rtol=4e-7 * 8, atol=1e-37)
