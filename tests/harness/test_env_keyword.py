"""``-k`` matches env names exactly (issue 16): ``-k nano33ble`` does not select ``nano33ble_rev2``.

An identifier of the ``-k`` expression that is the name of an env of the project matches an env's
tests only when it is that env's name; everything else is pytest's own ``-k`` (substrings of test,
module and marker names, ``and``/``or``/``not``).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from .test_ports import BOTH_NANOS, INI, _run
from .test_ports import _project as _ports_project
from .test_project import _pytest

ENVS = ("host", "nano33ble", "nano33ble_rev2", "pico")  # test_ports.INI

TESTS = """\
def test_bitexact(mf_env):
    pass


def test_latency(mf_env):
    pass


def test_plain():
    pass
"""


def _ids(*envs: str, tests: tuple[str, ...] = ("test_bitexact", "test_latency")) -> set[str]:
    return {f"{test}[{env}]" for test in tests for env in envs}


ALL = _ids(*ENVS) | {"test_plain"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("keyword")
    (root / "platformio.ini").write_text(INI)
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (root / "test_envs.py").write_text(TESTS)
    return root


def _collected(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    r = _pytest(project, "--collect-only", "-q", "--strict-markers", *args)
    return r, set(re.findall(r"^test_envs\.py::(\S+)$", r.stdout, re.M))


@pytest.mark.parametrize(("expression", "expected"), [
    ("nano33ble", _ids("nano33ble")),  # the issue: not nano33ble_rev2
    ("NANO33BLE", _ids("nano33ble")),  # case-insensitive, as -k is
    ("nano33ble_rev2", _ids("nano33ble_rev2")),
    ("nano33ble or nano33ble_rev2", _ids("nano33ble", "nano33ble_rev2")),
    ("not nano33ble", ALL - _ids("nano33ble")),
    ("test_bitexact and nano33ble", _ids("nano33ble", tests=("test_bitexact",))),
    ("nano33ble and not test_latency", _ids("nano33ble", tests=("test_bitexact",))),
    # not env names: pytest's substring matching
    ("nano33", _ids("nano33ble", "nano33ble_rev2")),
    ("rev2", _ids("nano33ble_rev2")),
    ("[nano33ble]", _ids("nano33ble")),
    ("test_bitexact", _ids(*ENVS, tests=("test_bitexact",))),
    ("test_plain", {"test_plain"}),
    ("not test_latency and not pico", _ids("host", "nano33ble", "nano33ble_rev2", tests=("test_bitexact",))
     | {"test_plain"}),
])
def test_keyword_matches_env_names_exactly(project: Path, expression: str, expected: set[str]) -> None:
    r, got = _collected(project, "-k", expression)
    assert r.returncode == 0 and got == expected, r.stdout + r.stderr
    assert f"{len(expected)}/{len(ALL)} tests collected ({len(ALL) - len(expected)} deselected)" in r.stdout, r.stdout


def test_without_keyword_nothing_changes(project: Path) -> None:
    r, got = _collected(project)
    assert r.returncode == 0 and got == ALL and "deselected" not in r.stdout, r.stdout
    r, got = _collected(project, "-m", "nano33ble")  # -m: the env's marker, exactly
    assert r.returncode == 0 and got == _ids("nano33ble"), r.stdout


def test_marker_and_keyword_both_apply(project: Path) -> None:
    r, got = _collected(project, "-m", "nano33ble_rev2", "-k", "nano33ble")
    assert r.returncode == 5 and not got, r.stdout  # no test left
    r, got = _collected(project, "-m", "nano33ble_rev2 or pico", "-k", "not nano33ble and test_bitexact")
    assert r.returncode == 0 and got == _ids("nano33ble_rev2", "pico", tests=("test_bitexact",)), r.stdout


def test_bad_keyword_expression_is_pytests_error(project: Path) -> None:
    r, _ = _collected(project, "-k", "nano33ble and")
    assert r.returncode == 4 and "Wrong expression passed to '-k'" in r.stderr, r.stderr
    r, _ = _collected(project, "-k", "nano33ble(x=1)")
    assert r.returncode == 4 and "do not support call parameters" in r.stderr, r.stderr


def test_ports_follow_the_keyword_selection(tmp_path: Path) -> None:
    """The ports are decided for the envs -k left: one Nano plugged in serves ``-k nano33ble``
    (were nano33ble_rev2 still selected, the shared VID:PID would fail both)."""
    project = _ports_project(tmp_path, BOTH_NANOS[:1])
    r, seen = _run(project, "-k", "test_env and nano33ble")
    assert r.returncode == 0 and seen == {"nano33ble": "/dev/ttyACM0"}, r.stdout
    assert "1 passed, 4 deselected" in r.stdout, r.stdout
    r, seen = _run(project, "-k", "test_env and not nano33ble")  # pico: not plugged in
    assert r.returncode == 0 and seen == {"host": "None", "nano33ble_rev2": "/dev/ttyACM0"}, r.stdout
    assert "microforge: env nano33ble_rev2 on /dev/ttyACM0 (USB 2341:805A)" in r.stdout, r.stdout


def test_keyword_under_xdist(project: Path) -> None:
    r = _pytest(project, "-n", "2", "-v", "-k", "nano33ble")
    ran = set(re.findall(r"(?:PASSED|SKIPPED|FAILED|ERROR) test_envs\.py::(\S+)", r.stdout))
    assert r.returncode == 0 and ran == _ids("nano33ble"), r.stdout


def test_without_pytests_private_api_keyword_is_pytests(tmp_path: Path) -> None:
    """A pytest without ``_pytest.mark.expression``: -k keeps its substring matching, no crash."""
    root = tmp_path
    (root / "platformio.ini").write_text(INI)
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (root / "test_envs.py").write_text(TESTS)
    (root / "conftest.py").write_text("import microforge.harness.plugin as plugin\n\nplugin._KEYWORD_API = None\n")
    r, got = _collected(root, "-k", "nano33ble")
    assert r.returncode == 0 and got == _ids("nano33ble", "nano33ble_rev2"), r.stdout + r.stderr
