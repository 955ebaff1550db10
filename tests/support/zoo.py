"""The model zoo: the ../shared/models files the tests run, in one list with the facts the tests
need about each. A test selects from it (``select``) instead of keeping its own list.

Suites (``ZooModel.suites``):
- ``firmware``: through the generated firmware on host and qemu-m4 (tests/e2e/test_zoo_models.py,
  tests/memory/test_arena.py);
- ``driver``: through the runtime's ASan/UBSan driver with the stored goldens (tests/runtime/test_zoo.py,
  and with the fast kernels in tests/runtime/test_fast_kernels.py);
- ``elementwise``: whole models using the element-wise kernels (tests/runtime/test_elementwise.py);
- ``alias``: a RESHAPE / element-wise op whose input dies there (tests/unit/test_plan.py).
``tflm_head``: the activation bytes TFLM's planner needs for the model (our plan must not need
more: tests/unit/test_plan.py). TFLM's whole arena on Cortex-M4 comes from bench/anchors.py
(``tflm_m4``), the figures the benchmarks print too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from support import ROOT, SHARED_MODELS, load_file


@dataclass(frozen=True)
class ZooModel:
    rel: str  # the path under ../shared/models
    suites: frozenset[str] = frozenset()
    tflm_head: int | None = None

    @property
    def name(self) -> str:
        return Path(self.rel).stem

    @property
    def path(self) -> Path:
        return SHARED_MODELS / self.rel

    @property
    def tflm_m4(self) -> dict[str, object] | None:
        """TFLM's figures on Cortex-M4 (bench/anchors.py), where the anchors have them."""
        return _anchors().get(self.rel)


def _z(rel: str, *suites: str, tflm_head: int | None = None) -> ZooModel:
    return ZooModel(rel, frozenset(suites), tflm_head)


ZOO: tuple[ZooModel, ...] = (
    _z("mlperf_tiny/kws/kws_ref_model.tflite", "firmware", "driver", "elementwise", "alias", tflm_head=16_000),
    _z("mlperf_tiny/vww/vww_96_int8.tflite", "firmware", "driver", "elementwise", "alias", tflm_head=73_728),
    _z("mlperf_tiny/vww/vww_96_float.tflite", "firmware"),
    _z("mlperf_tiny/ic/pretrainedResnet_quant.tflite", "firmware", "driver", "elementwise", "alias",
       tflm_head=49_152),
    _z("mlperf_tiny/ic/pretrainedResnet.tflite", "firmware"),
    _z("mlperf_tiny/ad/ad01_int8.tflite", "firmware", tflm_head=768),
    _z("mlperf_tiny/ad/ad01_fp32.tflite", "firmware"),
    _z("mlperf_tiny/sww/str_ww_ref_model.tflite", "firmware"),
    _z("tflm/hello_world/hello_world_int8.tflite", "firmware"),
    _z("tflm/hello_world/hello_world_float.tflite", "firmware"),
    _z("tflm/arduino_examples/arduino_hello_world_model.tflite", "firmware"),
    _z("tflm/micro_speech/micro_speech_quantized.tflite", "firmware", "driver", "elementwise"),
    _z("tflm/arduino_examples/arduino_micro_speech_model.tflite", "firmware"),
    _z("tflm/person_detection/person_detect.tflite", "firmware", "driver", "elementwise", "alias",
       tflm_head=55_296),
    _z("tflm/arduino_examples/magic_wand_model.tflite", "firmware", "elementwise", tflm_head=7_168),
    _z("tflm/memory_footprint/simple_add_model.tflite", "firmware", "elementwise"),
    _z("tflm/keyword_benchmark/keyword_scrambled_8bit.tflite", "elementwise"),
)


def select(suite: str) -> list[ZooModel]:
    """The zoo models of one suite, in the zoo's order."""
    return [z for z in ZOO if suite in z.suites]


def by_name(suite: str) -> dict[str, ZooModel]:
    """The zoo models of one suite by name (the file's stem)."""
    return {z.name: z for z in select(suite)}


def _anchors() -> dict[str, dict[str, object]]:
    return load_file("bench_anchors", ROOT / "bench" / "anchors.py").TFLM_M4


def uses_float_libm(model: Path) -> bool:
    """Does the model have a float32 TANH (libm's tanhf inside)? Float SOFTMAX / LOGISTIC use the
    runtime's own expf (kernels/float_math.cpp), equal to glibc's on every input: exact."""
    from microforge.model import read_model

    m = read_model(model)
    return any(op.op == "TANH" and m.tensors[op.outputs[0]].dtype == "float32" for op in m.operators)
