"""The MLPerf KWS model is reported as fitting or not fitting every catalogue board, with the
figures of that board's entry (issue 8)."""

from __future__ import annotations

import json

import pytest
from microforge.boards import all_boards
from microforge.cli import main as cli_main
from support import shared_model

BOARDS = [b for b in all_boards().values() if b.kind != "host"]


@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.id)
def test_kws_fit_report_uses_the_entry_budgets(board, capsys) -> None:
    model = shared_model("mlperf_tiny/kws/kws_ref_model.tflite")
    code = cli_main(["inspect", str(model), "--board", board.id, "--json"])
    report = json.loads(capsys.readouterr().out)["boards"][board.id]
    assert report["flash_budget"] == board.flash_bytes and report["ram_budget"] == board.ram_bytes
    assert report["model_bytes"] == model.stat().st_size
    assert report["flash_bytes"] == report["model_bytes"] + report["code_bytes"]
    assert report["ram_bytes"] == report["arena_bytes"] + report["static_ram_bytes"] + report["stack_bytes"]
    fits = report["flash_bytes"] <= board.flash_bytes and report["ram_bytes"] <= board.ram_bytes
    assert report["fits"] is fits and code == (0 if fits else 7)
    assert report["margin"] == {"flash": board.flash_bytes - report["flash_bytes"],
                                "ram": board.ram_bytes - report["ram_bytes"]}
    # a Cortex-M board with Debian's compiler here gets measured figures, not estimates
    assert report["measured"] is board.cpu.startswith("cortex-")
