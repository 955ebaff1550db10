"""`microforge new --optimize size|speed` (issue 22, "flash you can choose"): at size the plan carries
neither widened CONV_2D filters nor short requantization blocks, the image is smaller, and the
firmware stays bit-exact with TFLM (it widens and derives those on the device); the choice is kept
in the project's cookiecutter answers and `inspect --optimize` reports the flash it costs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from microforge.boards import get_boards
from microforge.cli import main as cli_main
from microforge.device.verify import verify
from microforge.errors import MicroforgeError
from microforge.lower.lowering import lower
from microforge.model import read_model
from microforge.project.scaffold import complete_project
from support import ROOT, SHARED_MODELS

CONV = ROOT / "tests" / "models" / "coverage" / "cov_conv_int8.tflite"  # CONV_2D and DEPTHWISE_CONV_2D
KWS = SHARED_MODELS / "mlperf_tiny/kws/kws_ref_model.tflite"
PLAN_ARRAY = re.compile(r"^(?:alignas\(\d+\) )?(?:static )?const \w+ (kWide|kQuick)\d+\[", re.M)


def _plan_arrays(project: Path) -> set[str]:
    return set(PLAN_ARRAY.findall((project / "src/model/model_plan.cpp").read_text()))


@pytest.mark.parametrize("model", [CONV, pytest.param(KWS, marks=pytest.mark.shared_models)], ids=["cov_conv", "kws"])
def test_size_drops_the_wide_filters_and_quick_blocks(model: Path) -> None:
    m = read_model(model)
    boards = get_boards(["qemu-m4"])
    speed, size = lower(m, boards, "speed"), lower(m, boards, "size")
    assert speed.wide and any(o.wide is not None for o in speed.ops)  # else this test checks nothing
    assert any(o.quick is not None for o in speed.ops)
    if model == KWS:  # every KWS node has its quick blocks (cov_conv has a node without)
        assert "-D MF_MODEL_QUICK_FROM_PLAN=1" in speed.flags
    assert not size.wide and all(o.wide is None and o.quick is None for o in size.ops)
    assert "-D MF_MODEL_QUICK_FROM_PLAN=1" not in size.flags  # the device derives the short forms
    assert size.plan == speed.plan  # the same arena either way


def test_an_unknown_choice_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(MicroforgeError, match="unknown optimize choice 'fast'"):
        complete_project(tmp_path / "p", str(CONV), "qemu-m4", optimize="fast")
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["new", "--model", str(CONV), "--board", "qemu-m4", "--output", str(tmp_path / "q"),
                  "--optimize", "fast"])
    assert exit_info.value.code == 2 and "invalid choice: 'fast'" in capsys.readouterr().err
    assert not (tmp_path / "q").exists()


def test_inspect_reports_the_flash_of_each_choice(capsys: pytest.CaptureFixture[str]) -> None:
    flash = {}
    for choice in ("speed", "size"):
        assert cli_main(["inspect", str(CONV), "--json", "--board", "qemu-m4", "--optimize", choice]) == 0
        flash[choice] = json.loads(capsys.readouterr().out)["boards"]["qemu-m4"]["flash_bytes"]
    wide = sum(o.wide.nbytes for o in lower(read_model(CONV), get_boards(["qemu-m4"])).ops if o.wide is not None)
    assert flash["size"] < flash["speed"] - wide  # at least the widened filters are gone


@pytest.mark.qemu
def test_a_size_project_is_bit_exact_on_qemu(tmp_path: Path) -> None:
    project = tmp_path / "small"
    assert cli_main(["new", "--model", str(CONV), "--board", "qemu-m4", "--board", "host",
                     "--output", str(project), "--optimize", "size"]) == 0
    assert json.loads((project / ".cookiecutter.json").read_text())["optimize"] == "size"
    assert _plan_arrays(project) == set()
    report = verify(project, "qemu-m4", count=10, seed=5, litert=False)
    assert report.ok and len(report.results) == 10 and all(r.exact for r in report.results)


def test_a_speed_project_carries_both(tmp_path: Path) -> None:
    """The default: the arrays the size test finds absent are there (so that test can fail)."""
    project = tmp_path / "fast"
    assert cli_main(["new", "--model", str(CONV), "--board", "qemu-m4", "--output", str(project)]) == 0
    assert json.loads((project / ".cookiecutter.json").read_text())["optimize"] == "speed"
    assert _plan_arrays(project) == {"kWide", "kQuick"}
