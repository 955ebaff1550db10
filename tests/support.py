"""Paths shared by the tests: the checkout, the bundled models and ../shared (optional)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "generator" / "microforge" / "examples"
SHARED = ROOT.parent / "shared"
SHARED_MODELS = SHARED / "models"


def shared_model(rel: str) -> Path:
    """A model from ../shared/models, or a clean skip where ../shared is absent."""
    path = SHARED_MODELS / rel
    if not path.is_file():
        pytest.skip(f"{path} not present (../shared is optional)")
    return path
