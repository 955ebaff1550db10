"""Shared helpers of the reliability tests (plain functions; the `cli` fixture is in conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"
MANIFEST: dict[str, dict[str, str]] = json.loads((CORPUS / "manifest.json").read_text())
EXAMPLES = ROOT / "generator" / "microforge" / "examples"

CliResult = tuple[int, str, str]  # exit code, stdout, stderr


def tree(folder: Path) -> list[str]:
    """Every path under folder (hidden ones too), relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_refused(result: CliResult, *needles: str) -> str:
    """Exit != 0, one `error:` line naming the problem, a `fix:` line, no traceback."""
    code, _, err = result
    assert code != 0, err
    assert err.startswith("error: "), err
    assert "\nfix: " in err, err
    assert "Traceback" not in err, err
    for n in needles:
        assert n in err, f"{n!r} not in {err!r}"
    return err
