"""One exception hierarchy; each error names the problem and the fix, and maps to an exit code."""

from __future__ import annotations

import errno


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


class WriteError(MicroforgeError):
    """The project could not be written (full disk, permissions, name too long)."""

    exit_code = 9

    _REASONS: dict[int, tuple[str, str]] = {
        errno.ENOSPC: ("no space left on the device", "free some space, or choose an --output on another disk"),
        errno.EDQUOT: ("disk quota exceeded", "free some space, or choose an --output on another disk"),
        errno.EACCES: ("permission denied", "choose an --output folder you can write to"),
        errno.EPERM: ("operation not permitted", "choose an --output folder you can write to"),
        errno.EROFS: ("the file system is read-only", "choose an --output folder on a writable disk"),
        errno.ENAMETOOLONG: ("a file or folder name is too long", "choose a shorter --output path"),
    }

    @classmethod
    def from_os_error(cls, exc: OSError, target: object) -> WriteError:
        reason, hint = cls._REASONS.get(exc.errno or 0, (exc.strerror or str(exc), "check the --output folder"))
        where = f" ({exc.filename})" if exc.filename else ""
        return cls(f"cannot write the project {target}: {reason}{where}; nothing was written", hint)
