"""Firmware built with fast-kernel routines left out (kernels/fast/, the MF_MODEL_* masks that
microforge.lower.build_flags sets per model) still matches TFLM bit-exactly on qemu-m4: CONV_2D's tiles,
the 3x3 depthwise rows and FULLY_CONNECTED's quads fall back to the C loops, with the C tile
loops left out too (*_ONLY) to a loop of one output at a time, and a routine for the other
output range is never taken for a clamped (or full-range) output. Without the general depthwise
path (MF_MODEL_DEPTHWISE_3X3_ONLY) a layout only it covers is refused, never computed wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from microforge.device.protocol import DeviceError
from microforge.device.verify import verify
from microforge.project.scaffold import generate
from support.fast_models import MODELS

pytestmark = pytest.mark.qemu


def _project(tmp_path: Path, name: str, flags: dict[str, str | None]) -> Path:
    """The generated project of MODELS[name] with its MF_MODEL_* flags replaced (None: removed)."""
    tmp_path.mkdir(exist_ok=True)
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(MODELS[name]())
    project = generate(model, ["qemu-m4"], tmp_path / "p")
    ini = project / "platformio.ini"
    text = ini.read_text()
    for flag, value in flags.items():
        text = re.sub(rf" -D {flag}=\d+", "", text)
        if value is not None:  # the first build_flags is [env]'s
            text = re.sub(r"^build_flags =", f"build_flags = -D {flag}={value}", text, count=1, flags=re.M)
    ini.write_text(text)
    return project


def _bit_exact(project: Path) -> None:
    report = verify(project, "qemu-m4", count=6, seed=5, litert=False)
    assert len(report.results) == 6 and all(r.exact for r in report.results)
    assert len({o for r in report.results for o in r.outputs}) > 1  # the inputs matter


@pytest.mark.parametrize("name,flags", [
    # every channel pair of a widened filter / of the int8 one (per-tensor weights) one output at a time
    ("conv_widened_padded", {"MF_MODEL_CONV_TILES": "0", "MF_MODEL_CONV_TILES_ONLY": "1"}),
    ("conv_pointwise_zp0_no_bias", {"MF_MODEL_CONV_TILES": "0", "MF_MODEL_CONV_TILES_ONLY": "1"}),
    ("conv_3x2_odd_channels_no_bias", {"MF_MODEL_CONV_TILES": "0", "MF_MODEL_CONV_TILES_ONLY": "1"}),
    # a clamped output (RELU) with only the full-range tiles built: the C 2x2 tile
    ("conv_widened_padded", {"MF_MODEL_CONV_TILES": "5", "MF_MODEL_CONV_TILES_ONLY": None}),
    # the 3x3 rows without their routine (the taps then stay undoubled), clamped and full range
    ("dw_3x3_stride_2_1_clamped", {"MF_MODEL_DEPTHWISE_ROWS": "1"}),
    ("dw_3x3_rows_in_runs_and_blocks", {"MF_MODEL_DEPTHWISE_ROWS": "0"}),
    # FULLY_CONNECTED's rows one at a time (no quad routine, no 1x4 C tile)
    ("fc_per_channel_no_activation", {"MF_MODEL_FC_QUADS": "0", "MF_MODEL_FC_QUADS_ONLY": "1"}),
    ("fc_rows_mod4_1_no_bias_zp0", {"MF_MODEL_FC_QUADS": "0", "MF_MODEL_FC_QUADS_ONLY": "1"}),
    ("fc_depth_tail_last_quad", {"MF_MODEL_FC_QUADS_ONLY": "1"}),
], ids=lambda v: v if isinstance(v, str) else ",".join(f"{k.removeprefix('MF_MODEL_')}={x}" for k, x in v.items()))
def test_routines_left_out_fall_back_bit_exact(tmp_path: Path, name: str, flags: dict[str, str | None]) -> None:
    _bit_exact(_project(tmp_path, name, flags))


def test_generator_flags_for_these_models(tmp_path: Path) -> None:
    """What the generator gives two of the models above (test_fast_kernels_qemu runs them so): the
    clamped rows alone on 12 channels, and the general path kept for 13."""
    text = (_project(tmp_path / "a", "dw_3x3_stride_2_1_clamped", {}) / "platformio.ini").read_text()
    assert "-D MF_MODEL_DEPTHWISE_ROWS=2" in text and "-D MF_MODEL_DEPTHWISE_3X3_ONLY=1" in text
    text = (_project(tmp_path / "b", "dw_3x3_interior_tails_zp0", {}) / "platformio.ini").read_text()
    assert "MF_MODEL_DEPTHWISE_3X3_ONLY" not in text


def test_depthwise_general_path_left_out_refuses(tmp_path: Path) -> None:
    """A 5x5 depthwise filter needs the general path: a build without it (and without the reference
    loop) refuses the node; with the reference loop it runs there, bit-exact."""
    project = _project(tmp_path / "a", "dw_5x5", {"MF_MODEL_DEPTHWISE_3X3_ONLY": "1"})
    assert "-D MF_MODEL_DEPTHWISE_FAST_ONLY=1" in (project / "platformio.ini").read_text()
    with pytest.raises(DeviceError, match="unsupported-type"):
        verify(project, "qemu-m4", count=1, seed=5, litert=False)
    _bit_exact(_project(tmp_path / "b", "dw_5x5", {"MF_MODEL_DEPTHWISE_3X3_ONLY": "1",
                                                    "MF_MODEL_DEPTHWISE_FAST_ONLY": None}))
