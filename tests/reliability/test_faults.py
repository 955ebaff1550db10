"""Faults while writing or running: existing/read-only output, full disk, Ctrl-C, missing toolchain."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import cookiecutter.main
import pytest
from microforge.project import scaffold
from support.rel_common import EXAMPLES, assert_refused, tree

SINE = str(EXAMPLES / "sine_int8.tflite")


def _new(cli, out: Path, *extra: str):
    return cli("new", "--model", SINE, "--board", "host", "--output", str(out), *extra)


def _fail_after_partial_render(exc: BaseException):
    """A stand-in for cookiecutter that writes half a project, then fails with exc."""

    def fake(template: str, output_dir: str, **_: object) -> str:
        half = Path(output_dir) / "project"
        (half / "src").mkdir(parents=True)
        (half / "src" / "main.cpp").write_text("// half written")
        raise exc

    return fake


def test_existing_output_is_refused_and_untouched(tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep")
    assert_refused(_new(cli, out), "not empty", "--force")
    assert tree(tmp_path) == ["out", "out/mine.txt"]
    (tmp_path / "file").write_text("x")
    assert_refused(_new(cli, tmp_path / "file"), "not a folder")
    assert (tmp_path / "file").read_text() == "x"


def test_empty_existing_output_is_used(tmp_path: Path, cli) -> None:
    (tmp_path / "out").mkdir()
    assert _new(cli, tmp_path / "out")[0] == 0
    assert (tmp_path / "out" / "platformio.ini").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


@pytest.mark.parametrize(
    ("err", "words"),
    [
        (errno.ENOSPC, ["no space left", "free some space"]),
        (errno.EACCES, ["permission denied", "can write to"]),
        (errno.EROFS, ["read-only", "writable disk"]),
    ],
)
def test_write_failure_mid_render_leaves_nothing(tmp_path: Path, cli, monkeypatch, err: int, words) -> None:
    monkeypatch.setattr(cookiecutter.main, "cookiecutter",
                        _fail_after_partial_render(OSError(err, os.strerror(err), "main.cpp")))
    res = _new(cli, tmp_path / "deep" / "er" / "out")
    assert_refused(res, *words, "nothing was written")
    assert res[0] == 9
    assert tree(tmp_path) == []  # no staging folder, not even the parents we made


def test_full_disk_while_moving_into_place_keeps_the_old_project(tmp_path: Path, cli, monkeypatch) -> None:
    out = tmp_path / "out"
    assert _new(cli, out)[0] == 0
    (out / "notes.txt").write_text("old project")
    before = tree(tmp_path)
    real_rename = Path.rename

    def rename(self: Path, target):
        if Path(target) == out and self.parent.name.startswith(".microforge-"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    assert_refused(_new(cli, out, "--force"), "no space left")
    assert tree(tmp_path) == before and (out / "notes.txt").read_text() == "old project"


def test_ctrl_c_during_generation_leaves_nothing(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.setattr(cookiecutter.main, "cookiecutter", _fail_after_partial_render(KeyboardInterrupt()))
    res = _new(cli, tmp_path / "new" / "out")
    assert_refused(res, "interrupted", "run the command again")
    assert res[0] == 130
    assert tree(tmp_path) == []


def test_ctrl_c_while_replacing_restores_the_old_project(tmp_path: Path, cli, monkeypatch) -> None:
    out = tmp_path / "out"
    assert _new(cli, out)[0] == 0
    (out / "notes.txt").write_text("old project")
    before = tree(tmp_path)
    real_rename = Path.rename

    def rename(self: Path, target):
        if Path(target) == out and self.parent.name.startswith(".microforge-"):
            raise KeyboardInterrupt
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    assert _new(cli, out, "--force")[0] == 130
    assert tree(tmp_path) == before


def test_read_only_parent_really(tmp_path: Path, cli) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions (the monkeypatched EACCES test covers this)")
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        res = _new(cli, ro / "out")
        assert_refused(res, "permission denied")
        assert tree(ro) == []
    finally:
        ro.chmod(0o755)


def test_staging_failure_is_a_clear_error(tmp_path: Path, cli, monkeypatch) -> None:
    def mkdtemp(**_: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path))

    monkeypatch.setattr(scaffold.tempfile, "mkdtemp", mkdtemp)
    assert_refused(_new(cli, tmp_path / "a" / "out"), "permission denied")
    assert tree(tmp_path) == []


def _path_without(tool: str, tmp_path: Path) -> str:
    """A PATH holding links to every tool of the current PATH except `tool`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for entry in os.listdir(d):
            src, dst = Path(d) / entry, bin_dir / entry
            if entry.startswith(tool) or dst.exists() or not os.access(src, os.X_OK):
                continue
            dst.symlink_to(src)
    return str(bin_dir)


def test_setup_without_arm_gcc_names_the_package(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("PATH", _path_without("arm-none-eabi-", tmp_path))
    assert shutil.which("arm-none-eabi-gcc") is None
    res = cli("setup", "--core-dir", str(tmp_path / "core"))
    assert_refused(res, "missing", "apt-get install", "gcc-arm-none-eabi")
    assert res[0] == 1


def test_verify_without_arm_gcc_or_qemu(tmp_path: Path, cli, monkeypatch) -> None:
    project = scaffold.generate(EXAMPLES / "sine_int8.tflite", ["qemu-m4"], tmp_path / "proj")
    before = tree(project)
    monkeypatch.setenv("PATH", _path_without("arm-none-eabi-", tmp_path))
    code, _, err = cli("verify", str(project), "--env", "qemu-m4", "--count", "1")
    assert code == 8 and err.startswith("error: ") and "Traceback" not in err, err
    assert "needs arm-none-eabi-gcc" in err
    assert [p for p in tree(project) if not p.startswith(".pio")] == before


def test_verify_without_arm_gcc_names_the_package(tmp_path: Path, cli, monkeypatch) -> None:
    project = scaffold.generate(EXAMPLES / "sine_int8.tflite", ["qemu-m4"], tmp_path / "proj")
    monkeypatch.setenv("PATH", _path_without("arm-none-eabi-", tmp_path))
    assert_refused(cli("verify", str(project), "--env", "qemu-m4", "--count", "1"), "gcc-arm-none-eabi")
