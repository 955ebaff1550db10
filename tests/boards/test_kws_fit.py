"""The MLPerf KWS model is reported as fitting or not fitting every catalogue board, with the
figures of that board's entry (issue 8)."""

from __future__ import annotations

import json

import pytest
from microforge.boards import all_boards
from microforge.cli import main as cli_main
from support import shared_model

BOARDS = [b for b in all_boards().values() if b.kind != "host"]


@pytest.mark.shared_models
@pytest.mark.parametrize("board", BOARDS, ids=lambda b: b.id)
def test_kws_fit_report_uses_the_entry_budgets(board, capsys) -> None:
    model = shared_model("mlperf_tiny/kws/kws_ref_model.tflite")
    code = cli_main(["inspect", str(model), "--board", board.id, "--json"])
    report = json.loads(capsys.readouterr().out)["boards"][board.id]
    assert report["flash_budget"] == board.flash_bytes and report["ram_budget"] == board.ram_bytes
    assert report["model_bytes"] == model.stat().st_size
    assert report["flash_bytes"] == report["model_bytes"] + report["code_bytes"]
    # RAM: arena, static data, our stack unless the framework fixes the main stack (then checked
    # against it), and whatever the board's linker script places in RAM (Teensy 4.x: code and .rodata)
    ram = report["arena_bytes"] + report["static_ram_bytes"]
    ram += report["stack_bytes"] if board.main_stack_bytes is None else 0
    ram += report["model_bytes"] if board.rodata_in == "ram" else 0
    ram += report["code_bytes"] if "ram" in (board.code_in, board.rodata_in) else 0
    assert report["ram_bytes"] == ram
    assert report["stack_budget"] == board.main_stack_bytes
    fits = report["flash_bytes"] <= board.flash_bytes and report["ram_bytes"] <= board.ram_bytes
    fits = fits and (board.main_stack_bytes is None or report["stack_bytes"] <= board.main_stack_bytes)
    assert report["fits"] is fits and code == (0 if fits else 7)
    assert report["margin"] == {"flash": board.flash_bytes - report["flash_bytes"],
                                "ram": board.ram_bytes - report["ram_bytes"],
                                "stack": None if board.main_stack_bytes is None
                                else board.main_stack_bytes - report["stack_bytes"]}
    # a Cortex-M board with Debian's compiler here gets measured figures, not estimates
    assert report["measured"] is board.cpu.startswith("cortex-")
