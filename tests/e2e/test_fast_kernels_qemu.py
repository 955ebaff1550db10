"""The fast int8 kernels' assembly loops on qemu-m4 (Cortex-M4F, DSP extension), bit-exact with TFLM
on small single-op models chosen to reach every loop and operand pattern: FULLY_CONNECTED with 1-3
leftover output rows, rows deeper than the widened row holds, depth tails (the last quad of rows
left to C), no bias and a zero input offset (accumulators and inputs starting equal), per-tensor
and per-channel weights with and without a clamp (the four quad routines), CONV_2D through widened
patches (odd pixel counts, padding, 1x1) and the fallback to the reference kernel (patches over 576
elements), DEPTHWISE_CONV_2D 3x3 a row at a time (borders, strides, channel tails, rows longer than
one run, more channels than one block), 5x5 filters, a depth multiplier of 8 (also of a one-channel
input, run as a CONV_2D), pruned channels (no weights, tiny scales, huge biases: the short
requantization's constant form), AVERAGE_POOL_2D (16-bit window sums) and same-shape ADD / MUL.
tests/runtime/test_fast_kernels.py runs the same kernels' portable forms under ASan on many more
shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from microforge.device.verify import verify
from microforge.project.scaffold import generate
from support.fast_models import MODELS

pytestmark = pytest.mark.qemu


@pytest.mark.parametrize("name", sorted(MODELS))
def test_fast_kernel_on_qemu_m4_bit_exact(name: str, tmp_path: Path) -> None:
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(MODELS[name]())
    project = generate(model, ["qemu-m4"], tmp_path / "p")
    report = verify(project, "qemu-m4", count=12, seed=5, litert=False)
    assert len(report.results) == 12
    bad = [r.index for r in report.results if not r.exact]
    assert not bad, f"{name}: inputs {bad} differ from TFLM"
    assert len({o for r in report.results for o in r.outputs}) > 1  # the inputs matter


@pytest.mark.parametrize("name", sorted(n for n in MODELS if n.startswith("fc_")))
def test_fc_int8_filter_quads_at_size_bit_exact(name: str, tmp_path: Path) -> None:
    """At --optimize size (as where a board has no room for them) the plan carries no widened
    FULLY_CONNECTED filter: the quads read the int8 filter (MF_MODEL_FC_QUADS bits 1..8), bit-exact."""
    import re

    model = tmp_path / f"{name}.tflite"
    model.write_bytes(MODELS[name]())
    project = generate(model, ["qemu-m4"], tmp_path / "p", optimize="size")
    quads = int(re.search(r"-D MF_MODEL_FC_QUADS=(\d+)", (project / "platformio.ini").read_text())[1])
    assert quads < 16, quads
    report = verify(project, "qemu-m4", count=6, seed=5, litert=False)
    assert len(report.results) == 6 and all(r.exact for r in report.results)


def test_fc_quad_routines_left_out_fall_back(tmp_path: Path) -> None:
    """microforge.lower.build_flags builds only the FULLY_CONNECTED quad routines a model calls
    (MF_MODEL_FC_QUADS); built without any, the same firmware runs the C loop, bit-exact."""
    import re

    model = tmp_path / "fc.tflite"
    # a model whose rows reach the quads (tests/e2e/test_dispatch_record.py holds the flags to that)
    model.write_bytes(MODELS["fc_depth_tail_last_quad"]())
    project = generate(model, ["qemu-m4"], tmp_path / "p")
    ini = project / "platformio.ini"
    text = ini.read_text()
    assert re.search(r"-D MF_MODEL_FC_QUADS=[1-9]", text)
    ini.write_text(re.sub(r"-D MF_MODEL_FC_QUADS=\d+", "-D MF_MODEL_FC_QUADS=0", text))
    report = verify(project, "qemu-m4", count=6, seed=5, litert=False)
    assert len(report.results) == 6 and all(r.exact for r in report.results)
