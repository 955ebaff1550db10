"""Issue 16's project: nano33ble + nano33ble_rev2 + pico + teensy41 + qemu-m4 in one project. It
generates, PlatformIO accepts its config, the qemu-m4 env verifies bit-exact against TFLM, and the fit
report of every board uses that board's catalogue budgets (measured from real links where one was
possible: budget_source names the framework)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from microforge.cli import main as cli_main
from microforge.device.verify import verify
from support import EXAMPLES
from support.board_tools import BOARDS, pio_config

IDS = ["nano33ble", "nano33ble_rev2", "pico", "teensy41", "qemu-m4"]
MODEL = EXAMPLES / "sine_int8.tflite"


@pytest.mark.qemu
def test_real_board_project_generates_verifies_and_fits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p"
    assert cli_main(["new", "--model", str(MODEL), "--output", str(project),
                     *[a for b in IDS for a in ("--board", b)]]) == 0
    sections = pio_config(project)
    assert {s for s in sections if s.startswith("env:")} == {f"env:{b}" for b in IDS}
    report = verify(project, "qemu-m4", count=8, seed=3, litert=False)
    assert len(report.results) == 8 and all(r.exact for r in report.results)
    capsys.readouterr()
    assert cli_main(["inspect", str(MODEL), "--json", *[a for b in IDS for a in ("--board", b)]]) == 0
    fits = json.loads(capsys.readouterr().out)["boards"]
    for bid in IDS:
        board = BOARDS[bid]
        assert (fits[bid]["flash_budget"], fits[bid]["ram_budget"], fits[bid]["stack_budget"]) == (
            board.flash_bytes, board.ram_bytes, board.main_stack_bytes), bid
        assert fits[bid]["fits"], bid
