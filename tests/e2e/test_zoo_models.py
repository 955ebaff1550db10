"""The model zoo through the generated firmware: every ../shared model whose ops the runtime has,
bit-exact with TFLM on 200 seeded random inputs (plus the golden inputs) on `host`, and on 10 on
`qemu-m4`. Skips cleanly where ../shared is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from microforge.device.verify import verify
from microforge.project.scaffold import generate
from support import HAVE_QEMU, SHARED_MODELS
from support.zoo import select, uses_float_libm

ZOO = [z.rel for z in select("firmware")]
HOST_COUNT, QEMU_COUNT = 200, 10
LIBM_ULPS = 4  # float TANH on Cortex-M only: see _assert_exact_but_libm


def _goldens(model: Path, tmp: Path) -> Path | None:
    """The golden inputs of ../shared/models/golden/<model>.npz as an --inputs file."""
    golden = SHARED_MODELS / "golden" / f"{model.stem}.npz"
    if not golden.is_file():
        return None
    with np.load(golden) as g:
        ins = {k: g[k] for k in g.files if k.startswith("in")}
    path = tmp / "golden_inputs.npz"
    np.savez(path, **ins)
    return path


def _assert_exact(report, count: int) -> None:
    assert len(report.results) == count
    bad = [r.index for r in report.results if not r.exact]
    assert not bad, f"{report.model} on {report.env}: inputs {bad[:10]} differ from TFLM"


def _ulps(a: str, b: str) -> int:
    x = np.frombuffer(bytes.fromhex(a), np.int32).astype(np.int64)
    y = np.frombuffer(bytes.fromhex(b), np.int32).astype(np.int64)
    return int(np.abs(x - y).max()) if x.size else 0


def _assert_exact_but_libm(report, count: int, model: Path) -> None:
    """On Cortex-M, float TANH calls newlib's tanhf, which can round the last bit differently from
    the x86 glibc the reference ran on (TFLM built for Cortex-M does the same; glibc's tanhf is not
    correctly rounded and is not reproduced by the runtime). There, and only there, a few float32
    ulps are allowed (LIBM_ULPS); everything else is exact."""
    if not uses_float_libm(model):
        _assert_exact(report, count)
        return
    assert len(report.results) == count
    worst = max(_ulps(o, w) for r in report.results for o, w in zip(r.outputs, r.reference, strict=True))
    assert worst <= LIBM_ULPS, f"{report.model} on {report.env}: {worst} ulps from TFLM"


@pytest.mark.shared_models
@pytest.mark.parametrize("rel", ZOO, ids=[Path(z).stem for z in ZOO])
def test_zoo_model_bit_exact(rel: str, tmp_path: Path) -> None:
    model = SHARED_MODELS / rel
    if not model.is_file():
        pytest.skip(f"{model} not present (../shared is optional)")
    boards = ["host", "qemu-m4"] if HAVE_QEMU else ["host"]
    project = generate(model, boards, tmp_path / "p")
    _assert_exact(verify(project, "host", count=HOST_COUNT, seed=11, litert=False), HOST_COUNT)
    goldens = _goldens(model, tmp_path)
    if goldens is not None:
        report = verify(project, "host", count=100, inputs=goldens, litert=False)
        assert report.ok and report.results
        golden = np.load(SHARED_MODELS / "golden" / f"{model.stem}.npz")
        for r in report.results:  # the goldens' own outputs, produced by TFLM when they were made
            assert bytes.fromhex(r.outputs[0]) == golden[f"out{r.index}_0"].tobytes()
    if HAVE_QEMU:
        report = verify(project, "qemu-m4", count=QEMU_COUNT, seed=12, litert=False)
        _assert_exact_but_libm(report, QEMU_COUNT, model)
