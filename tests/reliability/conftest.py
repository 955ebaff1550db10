"""Fixtures of the reliability tests (helpers live in rel_common.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from microforge.cli import main  # noqa: E402
from support.rel_common import CliResult


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Runs `microforge ARGS` in-process: (exit code, stdout, stderr)."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run
