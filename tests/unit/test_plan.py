"""The offline memory plan: never overlaps live tensors, and reaches the lower bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from microforge.model import read_model
from microforge.plan import ALIGN, MemoryPlan, plan_memory
from support import EXAMPLES, shared_model


def _check_no_overlap(plan: MemoryPlan) -> None:
    ps = plan.placements
    for i, a in enumerate(ps):
        assert a.offset % ALIGN == 0
        assert a.offset + a.size <= plan.activation_bytes
        for b in ps[i + 1:]:
            live_together = a.first <= b.last and b.first <= a.last
            disjoint = a.offset + a.size <= b.offset or b.offset + b.size <= a.offset
            assert not live_together or disjoint, (a, b)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.tflite")), ids=lambda p: p.stem)
def test_own_models(path: Path) -> None:
    model = read_model(path)
    plan = plan_memory(model)
    _check_no_overlap(plan)
    assert plan.activation_bytes >= plan.lower_bound
    for t in model.tensors:
        assert (plan.offsets[t.index] >= 0) == (not t.constant)


# (model, TFLM's non-persistent arena measured with its Python interpreter, ../shared/docs/anchors.md)
ZOO = [
    ("mlperf_tiny/vww/vww_96_int8.tflite", 73_728),
    ("mlperf_tiny/kws/kws_ref_model.tflite", 16_000),
    ("mlperf_tiny/ic/pretrainedResnet_quant.tflite", 49_152),
    ("mlperf_tiny/ad/ad01_int8.tflite", 768),
    ("tflm/person_detection/person_detect.tflite", 55_296),
    ("tflm/arduino_examples/magic_wand_model.tflite", 7_168),
]


@pytest.mark.parametrize("rel,tflm_head", ZOO, ids=[z[0].split("/")[-1] for z in ZOO])
def test_zoo_plan_beats_tflm(rel: str, tflm_head: int) -> None:
    plan = plan_memory(read_model(shared_model(rel)))
    _check_no_overlap(plan)
    assert plan.activation_bytes <= tflm_head
    assert plan.activation_bytes <= plan.lower_bound * 1.02
