"""Make a project: render the cookiecutter template, then fill it with what emit.py renders.

`generate` (used by `microforge new`) checks everything first, renders into a temporary folder
beside the output and moves the finished project into place, so a failure leaves nothing behind.
`complete_project` is what the template's post-generation hook calls; plain `cookiecutter` on the
template therefore produces the same project.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from microforge.boards import Board, get_boards
from microforge.errors import FitError, MicroforgeError, ModelError, OutputExistsError, WriteError
from microforge.lower.lowering import lower
from microforge.lower.optimize import check_optimize
from microforge.model import ModelInfo, check_runtime_rules, read_model
from microforge.model.ops import check_supported
from microforge.project import buildhash, emit
from microforge.project.budget import check_fit, format_budget
from microforge.resources import platform_dir, runtime_dir, template_dir

_SLUG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$")
_IGNORED = ("__pycache__", "*.pyc", ".pio", "*.o")
_COPY_IGNORE = shutil.ignore_patterns(*_IGNORED)
ARDUINO_PORT_DIR = "port-arduino"  # runtime/port-arduino: a library of its own (see its library.json)


@contextmanager
def _hook_scratch() -> Iterator[None]:
    """cookiecutter copies each hook to a temporary file it never removes (NamedTemporaryFile with
    delete=False): for the call, temporary files go to a folder of our own, removed after."""
    scratch = tempfile.mkdtemp(prefix="microforge-hooks-")
    previous = tempfile.tempdir
    tempfile.tempdir = scratch
    try:
        yield
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(scratch, ignore_errors=True)


# cookiecutter logs a traceback when a hook fails; our own error message says it better.
logging.getLogger("cookiecutter").addHandler(logging.NullHandler())


def jinja_literal(value: str) -> str:
    """A Jinja expression rendering exactly to value.

    cookiecutter renders extra_context values as templates, so a file or folder name holding
    `{{ ... }}` would otherwise be evaluated (template injection). Everything but plain
    printable ASCII is written as a \\U escape inside a string literal.
    """
    safe = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\{}%#' else f"\\U{ord(c):08x}" for c in value
    )
    return '{{ "' + safe + '" }}'


def split_boards(boards: str | list[str]) -> list[str]:
    items = boards.split(",") if isinstance(boards, str) else boards
    return [b.strip() for b in items if b.strip()]


def resolve_model_path(model_path: str) -> Path:
    """Relative paths from plain cookiecutter are relative to where the user ran it.

    The hooks receive the path through `tojson`, which writes a character beyond U+FFFF as a
    surrogate pair; join such pairs again (lone surrogates, from undecodable bytes, stay).
    """
    try:
        model_path = model_path.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeError:
        pass
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
    check_runtime_rules(model)
    board_list = get_boards(split_boards(boards))
    if not board_list:
        raise MicroforgeError("no board chosen", "pass at least one --board (see `microforge boards`)")
    return model, board_list


def complete_project(project: Path, model_path: str, boards: str | list[str], optimize: str = "speed") -> None:
    """Write the emitted sources, the model, the runtime and the platform into project."""
    model, board_list = check_answers(project.name if _SLUG.match(project.name) else "project",
                                      model_path, boards)
    lowering = lower(model, board_list, optimize)
    (project / "model").mkdir(exist_ok=True)
    (project / "model" / model.path.name).write_bytes(model.data)
    gen = project / "src" / "model"
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "model_data.h").write_text(emit.model_data_h(model))
    (gen / "model.h").write_text(emit.model_h(lowering))
    (gen / "model_ops.cpp").write_text(emit.model_ops_cpp(lowering))
    (gen / "model_plan.cpp").write_text(emit.model_plan_cpp(lowering))
    buildhash.write_header(model.data, gen)  # after the sources it covers
    (project / "platformio.ini").write_text(emit.platformio_ini(board_list, lowering.flags))
    shutil.copytree(runtime_dir(), project / "lib" / "microforge-runtime",
                    ignore=shutil.ignore_patterns(*_IGNORED, ARDUINO_PORT_DIR), dirs_exist_ok=True)
    if any(b.port == "ARDUINO" for b in board_list):
        shutil.copytree(runtime_dir() / ARDUINO_PORT_DIR, project / "lib" / emit.ARDUINO_PORT_LIB,
                        ignore=_COPY_IGNORE, dirs_exist_ok=True)
    if any(b.local_platform for b in board_list):
        shutil.copytree(platform_dir(), project / "platform" / "microforge", ignore=_COPY_IGNORE,
                        dirs_exist_ok=True)


def _check_not_precious(output: Path, model_path: Path) -> None:
    """--force replaces output: never when that would delete the model, the working folder or home."""
    if not output.is_dir() or not any(output.iterdir()):
        return  # nothing would be replaced
    cwd = Path.cwd().resolve()
    real = output.resolve()
    if real == Path(real.anchor) or real == Path.home().resolve() or real == cwd or real in cwd.parents:
        raise OutputExistsError(f"refusing to use {output} as the output folder (it holds the current "
                                "folder, or is home or the root)", "choose a new folder, e.g. --output my-project")
    if real in model_path.resolve().parents:
        raise OutputExistsError(f"the model {model_path} is inside the output folder {output}",
                                "move the model elsewhere or choose another --output")


def _first_missing(folder: Path) -> Path | None:
    """The outermost ancestor of folder (or folder) that does not exist yet."""
    missing = None
    for p in (folder, *folder.parents):
        if p.exists():
            break
        missing = p
    return missing


def _remove_created(folder: Path | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def _check_output(output: Path, force: bool) -> None:
    if output.exists() and not output.is_dir():
        raise OutputExistsError(f"{output} exists and is not a folder", "choose another --output")
    if output.is_dir() and any(output.iterdir()) and not force:
        raise OutputExistsError(
            f"output folder {output} exists and is not empty",
            "choose another --output, or pass --force to replace it",
        )


def generate(model_path: Path, board_ids: list[str], output: Path, force: bool = False,
             force_fit: bool | None = None, optimize: str = "speed") -> Path:
    """Generate a project at output; nothing is left behind when anything fails.

    force replaces a non-empty output folder and, unless force_fit says otherwise, also
    generates a model that does not fit a chosen board. optimize: speed or size (lower.optimize).
    """
    force_fit = force if force_fit is None else force_fit
    from cookiecutter.exceptions import CookiecutterException, FailedHookException
    from cookiecutter.main import cookiecutter

    output = Path(os.path.abspath(output.expanduser()))  # also folds "a/.." so output.name is real
    model_path = model_path.expanduser().absolute()
    _check_output(output, force)
    _check_not_precious(output, model_path)
    model, boards = check_answers("project", str(model_path), board_ids)  # clear errors before any write
    check_optimize(optimize)
    if not force_fit:
        misfits = check_fit(lower(model, boards, optimize), boards)  # the lowering the project will get
        if misfits:
            raise FitError(
                f"{model.path.name} does not fit " + ", ".join(b.board for b in misfits) + ":\n"
                + "\n".join(format_budget(b) for b in misfits),
                "choose a board with more flash/RAM or a smaller model"
                + (", or --optimize size for the smallest flash" if optimize != "size" and any(
                    b.flash_budget is not None and b.flash_bytes > b.flash_budget for b in misfits) else "")
                + "; --force generates it anyway",
            )
    created = _first_missing(output.parent)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".microforge-", dir=output.parent))
    except OSError as exc:
        _remove_created(created)
        raise WriteError.from_os_error(exc, output) from exc
    done = False
    try:
        try:
            with _hook_scratch():
                rendered = cookiecutter(
                    str(template_dir()),
                    no_input=True,
                    output_dir=str(staging),
                    accept_hooks=True,
                    extra_context={
                        "project_name": jinja_literal(output.name),
                        "project_slug": "project",
                        "model_path": jinja_literal(str(model_path)),
                        "boards": jinja_literal(",".join(board_ids)),
                        "optimize": optimize,
                    },
                )
        except FailedHookException as exc:
            raise ModelError(f"project generation failed: {exc}") from exc
        except CookiecutterException as exc:
            raise MicroforgeError(f"cookiecutter failed: {exc}") from exc
        _replace(Path(rendered), output)
        done = True
    except OSError as exc:
        raise WriteError.from_os_error(exc, output) from exc
    finally:  # also on KeyboardInterrupt: no staging folder, no parent we created
        shutil.rmtree(staging, ignore_errors=True)
        if not done:
            _remove_created(created)
    return output


def _replace(new: Path, output: Path) -> None:
    """Move new into output's place; an old output (--force) goes only once new is in."""
    if output.exists() and output.is_dir() and any(output.iterdir()):
        backup = output.with_name(f".{output.name}.old-{os.getpid()}")
        output.rename(backup)
        try:
            new.rename(output)
        except BaseException:  # OSError or Ctrl-C: put the old project back
            backup.rename(output)
            raise
        shutil.rmtree(backup, ignore_errors=True)
    else:
        if output.exists():
            output.rmdir()
        new.rename(output)
