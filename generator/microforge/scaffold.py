"""Make a project: render the cookiecutter template, then fill it with what emit.py renders.

`generate` (used by `microforge new`) checks everything first, renders into a temporary folder
beside the output and moves the finished project into place, so a failure leaves nothing behind.
`complete_project` is what the template's post-generation hook calls; plain `cookiecutter` on the
template therefore produces the same project.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from . import emit
from .boards import Board, get_boards
from .errors import MicroforgeError, ModelError, OutputExistsError
from .model import ModelInfo, read_model
from .ops import check_supported
from .plan import plan_memory
from .resources import platform_dir, runtime_dir, template_dir

_SLUG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_COPY_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".pio", "*.o")


def split_boards(boards: str | list[str]) -> list[str]:
    items = boards.split(",") if isinstance(boards, str) else boards
    return [b.strip() for b in items if b.strip()]


def resolve_model_path(model_path: str) -> Path:
    """Relative paths from plain cookiecutter are relative to where the user ran it."""
    path = Path(model_path).expanduser()
    if not path.is_absolute():
        path = Path(os.environ.get("PWD", os.getcwd())) / path
    return path


def check_answers(slug: str, model_path: str, boards: str | list[str]) -> tuple[ModelInfo, list[Board]]:
    if not _SLUG.match(slug) or slug in (".", ".."):
        raise MicroforgeError(
            f"project slug {slug!r} is not a safe folder name",
            "use letters, digits, '_', '.' and '-' (at most 100 characters)",
        )
    model = read_model(resolve_model_path(model_path))
    check_supported(model)
    board_list = get_boards(split_boards(boards))
    if not board_list:
        raise MicroforgeError("no board chosen", "pass at least one --board (see `microforge boards`)")
    return model, board_list


def complete_project(project: Path, model_path: str, boards: str | list[str]) -> None:
    """Write the emitted sources, the model, the runtime and the platform into project."""
    model, board_list = check_answers(project.name if _SLUG.match(project.name) else "project",
                                      model_path, boards)
    plan = plan_memory(model)
    (project / "model").mkdir(exist_ok=True)
    (project / "model" / model.path.name).write_bytes(model.data)
    gen = project / "src" / "model"
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "model_data.h").write_text(emit.model_data_h(model))
    (gen / "model.h").write_text(emit.model_h(model, plan))
    (gen / "model_ops.cpp").write_text(emit.model_ops_cpp(model))
    (gen / "model_plan.cpp").write_text(emit.model_plan_cpp(model, plan))
    (project / "platformio.ini").write_text(emit.platformio_ini(board_list))
    shutil.copytree(runtime_dir(), project / "lib" / "microforge-runtime", ignore=_COPY_IGNORE,
                    dirs_exist_ok=True)
    if any(b.local_platform for b in board_list):
        shutil.copytree(platform_dir(), project / "platform" / "microforge", ignore=_COPY_IGNORE,
                        dirs_exist_ok=True)


def _check_output(output: Path, force: bool) -> None:
    if output.exists() and not output.is_dir():
        raise OutputExistsError(f"{output} exists and is not a folder", "choose another --output")
    if output.is_dir() and any(output.iterdir()) and not force:
        raise OutputExistsError(
            f"output folder {output} exists and is not empty",
            "choose another --output, or pass --force to replace it",
        )


def generate(model_path: Path, board_ids: list[str], output: Path, force: bool = False) -> Path:
    """Generate a project at output; nothing is left behind when anything fails."""
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.main import cookiecutter

    output = output.expanduser().absolute()
    model_path = model_path.expanduser().absolute()
    _check_output(output, force)
    check_answers("project", str(model_path), board_ids)  # clear errors before any write
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".microforge-", dir=output.parent))
    try:
        try:
            rendered = cookiecutter(
                str(template_dir()),
                no_input=True,
                output_dir=str(staging),
                accept_hooks=True,
                extra_context={
                    "project_name": output.name,
                    "project_slug": "project",
                    "model_path": str(model_path),
                    "boards": ",".join(board_ids),
                },
            )
        except FailedHookException as exc:
            raise ModelError(f"project generation failed: {exc}") from exc
        except CookiecutterException as exc:
            raise MicroforgeError(f"cookiecutter failed: {exc}") from exc
        _replace(Path(rendered), output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return output


def _replace(new: Path, output: Path) -> None:
    """Move new into output's place; an old output (--force) goes only once new is in."""
    if output.exists() and output.is_dir() and any(output.iterdir()):
        backup = output.with_name(f".{output.name}.old-{os.getpid()}")
        output.rename(backup)
        try:
            new.rename(output)
        except OSError:
            backup.rename(output)
            raise
        shutil.rmtree(backup, ignore_errors=True)
    else:
        if output.exists():
            output.rmdir()
        new.rename(output)
