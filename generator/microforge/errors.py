"""One exception hierarchy; each error names the problem and the fix, and maps to an exit code."""

from __future__ import annotations


class MicroforgeError(Exception):
    """Base error: ``str(err)`` is the problem, ``err.hint`` the fix."""

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class ModelError(MicroforgeError):
    """The model file is missing, corrupt or not a TFLite model we can read."""

    exit_code = 3


class UnsupportedOpsError(ModelError):
    """The model uses operators the runtime lacks."""

    exit_code = 4


class BoardError(MicroforgeError):
    """Unknown board id or a malformed board catalogue entry."""

    exit_code = 5


class OutputExistsError(MicroforgeError):
    """The output folder exists and is not empty."""

    exit_code = 6


class FitError(MicroforgeError):
    """The model does not fit the chosen board."""

    exit_code = 7


class ToolError(MicroforgeError):
    """A required tool (compiler, QEMU, PlatformIO) is missing or failed."""

    exit_code = 8
