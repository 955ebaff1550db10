"""Selecting one board, and giving each real-board env its own serial port (never a guessed one).

The Nano 33 BLE and the Nano 33 BLE Rev2 share the USB VID:PID 2341:805A: the fake ports below
stand in for them (``serial.tools.list_ports.comports`` is replaced in the project's conftest).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from microforge.device.envs import EnvSpec, read_envs
from microforge.device.ports import (
    PortError,
    PortOption,
    UsbPort,
    detect_port,
    parse_port_option,
    resolve_ports,
)

from .test_project import _pytest

INI = """\
[env:host]
custom_microforge_kind = host

[env:nano33ble]
custom_microforge_kind = hardware
custom_microforge_usb = 2341:805A

[env:nano33ble_rev2]
custom_microforge_kind = hardware
custom_microforge_usb = 2341:805A 2341:005A

[env:pico]
custom_microforge_kind = hardware
custom_microforge_usb = 2E8A:00C0
"""

NANO = EnvSpec("nano33ble", "hardware", usb="2341:805A")
REV2 = EnvSpec("nano33ble_rev2", "hardware", usb="2341:805a, 2341:005A")
PICO = EnvSpec("pico", "hardware", usb="2E8A:00C0")
HOST = EnvSpec("host", "host")
ACM0, ACM1 = UsbPort("/dev/ttyACM0", "2341:805A"), UsbPort("/dev/ttyACM1", "2341:805A")
PICO_PORT = UsbPort("/dev/ttyACM2", "2E8A:00C0")


def _ports(envs: list[EnvSpec], option: str | None, ports: list[UsbPort]) -> dict[str, str | None]:
    """env -> port, or "error: <message>" (``option``: --port's value)."""
    chosen = resolve_ports(envs, parse_port_option(option, [NANO, REV2, PICO, HOST]), ports)
    return {name: f"error: {c.error}" if c.error else c.port for name, c in chosen.items()}


def test_usb_ids_accept_a_list() -> None:
    assert REV2.usb_ids == ("2341:805A", "2341:005A")
    assert EnvSpec("x", "hardware", usb="nonsense 2341:805a").usb_ids == ("2341:805A",)


def test_port_option_items() -> None:
    envs = [NANO, REV2, HOST]
    assert parse_port_option(None, envs) == PortOption()
    assert parse_port_option("/dev/ttyACM0", envs) == PortOption({}, ("/dev/ttyACM0",))
    got = parse_port_option("nano33ble=/dev/ttyACM0|socket://h:1", envs, ["nano33ble_rev2=/dev/ttyACM1"])
    assert got == PortOption({"nano33ble": "/dev/ttyACM0", "nano33ble_rev2": "/dev/ttyACM1"}, ("socket://h:1",))
    assert parse_port_option("rfc2217://h:7?logging=debug", envs).bare == ("rfc2217://h:7?logging=debug",)
    for bad, message in (("nano33bel=/dev/ttyACM0", "nano33bel"), ("host=/dev/ttyACM0", "not a real board"),
                         ("nano33ble=", "no port"), ("nano33ble=/dev/a|nano33ble=/dev/b", "two ports")):
        with pytest.raises(PortError, match=message):
            parse_port_option(bad, envs)
    with pytest.raises(PortError, match="two ports: /dev/a and /dev/b"):
        parse_port_option("nano33ble=/dev/a", envs, ["nano33ble=/dev/b"])
    with pytest.raises(PortError, match="expected ENV=PORT"):
        parse_port_option(None, envs, ["/dev/ttyACM0"])


def test_boards_sharing_a_vid_pid_are_never_guessed() -> None:
    # one board plugged in, both envs selected: the port fits either firmware
    got = _ports([NANO, REV2], None, [ACM0])
    for env in ("nano33ble", "nano33ble_rev2"):
        message = got[env] or ""
        assert message.startswith("error: port /dev/ttyACM0 (USB 2341:805A) would be auto-detected by envs")
        assert "nano33ble and nano33ble_rev2" in message or "nano33ble_rev2 and nano33ble" in message
        assert f"--port={env}=/dev/ttyACM0" in message and f"-m {env}" in message
    # one env selected (-m nano33ble_rev2): its board is found
    assert _ports([REV2], None, [ACM0]) == {"nano33ble_rev2": "/dev/ttyACM0"}
    # two boards on one VID:PID, one env selected: which port is that board is not guessed
    message = _ports([NANO], None, [ACM0, ACM1])["nano33ble"] or ""
    assert "2 serial ports match" in message and "/dev/ttyACM0 (2341:805A), /dev/ttyACM1 (2341:805A)" in message
    assert "--port=nano33ble=/dev/ttyACM0" in message
    # ports per env
    assert _ports([NANO, REV2], "nano33ble=/dev/ttyACM1|nano33ble_rev2=/dev/ttyACM0", [ACM0, ACM1]) == {
        "nano33ble": "/dev/ttyACM1", "nano33ble_rev2": "/dev/ttyACM0"}
    # a port named for one env is not auto-detected by the other: the other board is the one left
    assert _ports([NANO, REV2], "nano33ble_rev2=/dev/ttyACM1", [ACM0, ACM1]) == {
        "nano33ble": "/dev/ttyACM0", "nano33ble_rev2": "/dev/ttyACM1"}
    # ... even when that env is not selected
    assert _ports([NANO], "nano33ble_rev2=/dev/ttyACM1", [ACM0, ACM1]) == {"nano33ble": "/dev/ttyACM0"}
    # other boards are unaffected; a board that is not plugged in has no port (skipped)
    assert _ports([NANO, REV2, PICO], "nano33ble=/dev/ttyACM0", [ACM0, PICO_PORT]) == {
        "nano33ble": "/dev/ttyACM0", "nano33ble_rev2": None, "pico": "/dev/ttyACM2"}


def test_bare_ports() -> None:
    # one bare port, one selected board: that board's, whatever the port (a pty, a socket URL)
    assert _ports([NANO], "/dev/pts/7", []) == {"nano33ble": "/dev/pts/7"}
    # one bare port, two selected boards: by its VID:PID, unless that fits both
    assert _ports([NANO, PICO], "/dev/ttyACM2", [ACM0, PICO_PORT]) == {
        "nano33ble": "/dev/ttyACM0", "pico": "/dev/ttyACM2"}
    got = _ports([NANO, REV2], "/dev/ttyACM0", [ACM0])
    assert got["nano33ble"] == got["nano33ble_rev2"]
    assert "fits envs nano33ble and nano33ble_rev2" in (got["nano33ble"] or "")
    assert "--port=nano33ble=/dev/ttyACM0" in (got["nano33ble"] or "")
    unknown = _ports([NANO, PICO], "/dev/pts/7", [])
    assert "/dev/pts/7 is not a USB port this machine lists" in (unknown["pico"] or "")
    # pytest-embedded's multi-DUT form with two boards of one VID:PID and one env
    assert "two ports that both match env 'nano33ble'" in (
        _ports([NANO, PICO], "/dev/ttyACM0|/dev/ttyACM1", [ACM0, ACM1])["nano33ble"] or "")


def test_detect_port_refuses_two_matching_ports() -> None:
    assert detect_port("2341:805A", [ACM0, PICO_PORT]) == "/dev/ttyACM0"
    assert detect_port("2341:005A 2341:805A", [ACM0]) == "/dev/ttyACM0"
    with pytest.raises(PortError, match="2 serial ports match USB 2341:805A: /dev/ttyACM0"):
        detect_port("2341:805A", [ACM0, ACM1])


# --- through pytest, as a user runs a generated project's tests --------------------------------

CONFTEST = """\
from types import SimpleNamespace

from serial.tools import list_ports

PORTS = [SimpleNamespace(device=d, vid=v, pid=p) for d, v, p in {ports!r}]
list_ports.comports = lambda: PORTS
"""

TESTS = """\
def test_env(mf_env, mf_port):
    print(f"PORT {mf_env.name}={mf_port}")


def test_stock_port(port):  # pytest-embedded's own fixture
    print(f"STOCK {port!r}")
"""


def _project(tmp_path: Path, ports: list[tuple[str, int, int]]) -> Path:
    (tmp_path / "platformio.ini").write_text(INI)
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n")
    (tmp_path / "conftest.py").write_text(CONFTEST.format(ports=ports))
    (tmp_path / "test_envs.py").write_text(TESTS)
    return tmp_path


def _run(project: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    r = _pytest(project, "-rA", "-s", "--strict-markers", *args)
    return r, dict(re.findall(r"PORT (\S+)=(\S+)", r.stdout))


BOTH_NANOS = [("/dev/ttyACM0", 0x2341, 0x805A), ("/dev/ttyACM1", 0x2341, 0x805A)]


def test_marker_selects_exactly_one_env(tmp_path: Path) -> None:
    project = _project(tmp_path, BOTH_NANOS[:1])
    assert [e.name for e in read_envs(project)] == ["host", "nano33ble", "nano33ble_rev2", "pico"]
    r, seen = _run(project, "-m", "nano33ble", "-k", "test_env")
    assert r.returncode == 0 and seen == {"nano33ble": "/dev/ttyACM0"}, r.stdout
    assert "1 passed, 4 deselected" in r.stdout, r.stdout
    r, seen = _run(project, "-k", "test_env and [nano33ble]")  # -k with the id's brackets
    assert r.returncode == 0 and seen == {"nano33ble": "/dev/ttyACM0"}, r.stdout
    r, seen = _run(project, "-m", "nano33ble_rev2 or host", "-k", "test_env")
    assert r.returncode == 0 and seen == {"host": "None", "nano33ble_rev2": "/dev/ttyACM0"}, r.stdout


def test_shared_vid_pid_is_an_error_naming_envs_and_ports(tmp_path: Path) -> None:
    project = _project(tmp_path, BOTH_NANOS[:1])
    r, seen = _run(project, "-k", "test_env")
    assert r.returncode == 1 and seen == {"host": "None"}, r.stdout  # nothing flashed, host still runs
    assert "ERROR at setup of test_env[nano33ble]" in r.stdout, r.stdout
    assert ("port /dev/ttyACM0 (USB 2341:805A) would be auto-detected by envs nano33ble and "
            "nano33ble_rev2") in r.stdout, r.stdout
    assert "--port=nano33ble=/dev/ttyACM0" in r.stdout and "--port=nano33ble_rev2=/dev/ttyACM0" in r.stdout
    assert "test_env[pico] SKIPPED" not in r.stdout and "no serial port has its USB VID:PID (2E8A:00C0)" in r.stdout

    project = _project(tmp_path, BOTH_NANOS)
    r, seen = _run(project, "-m", "nano33ble", "-k", "test_env")
    assert r.returncode == 1 and not seen, r.stdout
    assert "2 serial ports match its USB VID:PID (2341:805A): /dev/ttyACM0 (2341:805A), /dev/ttyACM1" in r.stdout


def test_ports_per_env(tmp_path: Path) -> None:
    project = _project(tmp_path, BOTH_NANOS)
    r, seen = _run(project, "-k", "test_env", "--mf-port", "nano33ble=/dev/ttyACM1",
                   "--mf-port=nano33ble_rev2=/dev/ttyACM0")
    assert r.returncode == 0 and seen == {"host": "None", "nano33ble": "/dev/ttyACM1",
                                          "nano33ble_rev2": "/dev/ttyACM0"}, r.stdout
    assert "microforge: env nano33ble on /dev/ttyACM1 (--port)" in r.stdout, r.stdout
    r, seen = _run(project, "-k", "test_env", "--port=nano33ble=/dev/ttyACM1")  # the other one is left
    assert r.returncode == 0 and seen["nano33ble_rev2"] == "/dev/ttyACM0", r.stdout
    assert "microforge: env nano33ble_rev2 on /dev/ttyACM0 (USB 2341:805A)" in r.stdout, r.stdout
    r, seen = _run(project, "-m", "nano33ble_rev2", "--port=/dev/ttyACM1")  # bare: the one board selected
    assert r.returncode == 0 and seen == {"nano33ble_rev2": "/dev/ttyACM1"}, r.stdout


def test_port_usage_errors(tmp_path: Path) -> None:
    project = _project(tmp_path, BOTH_NANOS)
    r, _ = _run(project, "--port=nano33bel=/dev/ttyACM1")
    assert r.returncode == 4 and "env 'nano33bel'" in r.stderr and "nano33ble, nano33ble_rev2, pico" in r.stderr
    r, _ = _run(project, "--port=nano33ble=/dev/ttyACM1", "--port=nano33ble_rev2=/dev/ttyACM0")
    assert r.returncode == 4 and "--port is given more than once" in r.stderr, r.stderr
    assert "--mf-port nano33ble=/dev/ttyACM0 --mf-port nano33ble_rev2=" in r.stderr
    r, _ = _run(project, "--port=nano33ble=/dev/ttyACM1|nano33ble_rev2=/dev/ttyACM0")
    assert r.returncode == 4 and "needs --count=2" in r.stderr and "--mf-port ENV=PORT" in r.stderr, r.stderr


def test_pytest_embedded_port_still_works(tmp_path: Path) -> None:
    """pytest-embedded's own ``port`` fixture, with one port and with its ``|`` multi-DUT form."""
    project = _project(tmp_path, BOTH_NANOS)
    r, _ = _run(project, "-k", "test_stock_port", "--port=/dev/ttyACM0")
    assert r.returncode == 0 and "STOCK '/dev/ttyACM0'" in r.stdout, r.stdout
    r, _ = _run(project, "-k", "test_stock_port", "--count=2", "--port=/dev/ttyACM0|/dev/ttyACM1")
    assert r.returncode == 0 and "STOCK ('/dev/ttyACM0', '/dev/ttyACM1')" in r.stdout, r.stdout


def test_generated_project_selects_and_documents_one_board(tmp_path: Path) -> None:
    from microforge.project.scaffold import generate

    examples = Path(__file__).resolve().parents[2] / "generator" / "microforge" / "examples"
    project = generate(examples / "sine_int8.tflite", ["host", "nano33ble", "nano33ble_rev2"], tmp_path / "p")
    r = _pytest(project, "--collect-only", "-q", "--strict-markers", "-m", "nano33ble")
    ids = re.findall(r"^tests/\S+\[(\S+)\]$", r.stdout, re.M)
    assert r.returncode == 0 and ids and set(ids) == {"nano33ble"}, r.stdout
    workflow = (project / ".github" / "workflows" / "device-tests.yml").read_text()
    assert '-m "${{ matrix.board }}"' in workflow and "--port=${{ matrix.board }}=$PORT" in workflow
    assert "-k " not in workflow.split("jobs:")[1]
    readme = (project / "README.md").read_text()
    for needle in ("pytest -m nano33ble", "--port=nano33ble=/dev/ttyACM0",
                   "--mf-port nano33ble=/dev/ttyACM0 --mf-port nano33ble_rev2=/dev/ttyACM1", '-k "[nano33ble]"'):
        assert needle in readme, needle
