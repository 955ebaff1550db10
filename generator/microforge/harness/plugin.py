"""pytest plugin ``microforge``: run a generated project's firmware and check it.

Registered through the ``pytest11`` entry point. It is an ordinary plugin on top of
pytest-embedded (which cannot take new services): it reuses its message queue, log files and
``Dut`` (``dut.log`` under the pytest-embedded log dir), and its ``--port`` option for real boards.

Fixtures:
  mf_project    the project dir (``--mf-project``, else the pytest rootdir)
  mf_env        one runnable env of the project's platformio.ini (parametrized, id = env name)
  mf_dut        the started firmware as a pytest-embedded ``Dut`` (``.client``, ``.transport``)
  mf_device     its ``DeviceClient``; the firmware is built, booted, and ended with ``mf-exit%``
  mf_reference  the TFLM reference interpreter for the project's model
  mf_serial     factory for emulator envs: ``mf_serial(paused=False)`` starts the QEMU firmware with
                its UART on a pseudo-terminal and returns a ``DeviceClient`` over the real-board
                path (pytest-embedded's stock serial service, ``SerialTransport``), not yet
                synced; stopped afterwards
  mf_count, mf_seed   ``--mf-count`` / ``--mf-seed``
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_embedded.app import App

from ..errors import ToolError
from ..protocol import DeviceClient, ProtocolError
from ..reference import Reference
from .dut import MfDut, QemuSerial, build, file_lock, start
from .project import EnvSpec, detect_port, model_path, read_envs

BOOT_TIMEOUT = 30.0
_BUILT: dict[tuple[Path, str], Path | str] = {}  # per worker: build dir, or the build error


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("microforge")
    group.addoption("--mf-project", help="generated project to test (default: the rootdir)")
    group.addoption("--mf-count", type=int, default=100,
                    help="number of seeded random inputs per env (default 100)")
    group.addoption("--mf-seed", type=int, default=1234, help="seed of the random inputs")
    group.addoption("--mf-baud", type=int, default=115200, help="baud rate for real boards")
    # --port comes from pytest-embedded (always pass it in full: --port=/dev/ttyACM0).


def _project(config: pytest.Config) -> Path:
    opt = config.getoption("mf_project")
    return Path(opt).resolve() if opt else Path(config.rootpath).resolve()


def _port(config: pytest.Config, env: EnvSpec | None = None) -> str | None:
    """``--port``, else (for a real board) the port whose USB VID:PID matches the env's."""
    try:
        port = config.getoption("port")
    except ValueError:  # pytest-embedded not loaded
        port = None
    if port is None and env is not None and env.kind == "hardware" and env.usb:
        port = detect_port(env.usb)
    return port


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mf_env" not in metafunc.fixturenames:
        return
    project = _project(metafunc.config)
    envs = read_envs(project)
    if not envs:
        reason = f"no [env:...] sections in {project / 'platformio.ini'} (use --mf-project)"
        metafunc.parametrize("mf_env", [pytest.param(None, marks=pytest.mark.skip(reason=reason))],
                             ids=["no-env"], indirect=True)
        return
    params = []
    for env in envs:
        marks = [pytest.mark.xdist_group(name=f"mf-{env.name}")]
        reason = env.skip_reason(_port(metafunc.config, env))
        if reason:
            marks.append(pytest.mark.skip(reason=reason))
        params.append(pytest.param(env, marks=marks, id=env.name))
    metafunc.parametrize("mf_env", params, indirect=True)


@pytest.fixture(scope="session")
def mf_project(request: pytest.FixtureRequest) -> Path:
    project = _project(request.config)
    if not (project / "platformio.ini").is_file():
        pytest.fail(f"{project} is not a PlatformIO project (no platformio.ini): use --mf-project",
                    pytrace=False)
    return project


@pytest.fixture(scope="session")
def mf_count(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("mf_count"))


@pytest.fixture(scope="session")
def mf_seed(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("mf_seed"))


@pytest.fixture
def mf_env(request: pytest.FixtureRequest) -> EnvSpec:
    if not hasattr(request, "param"):
        pytest.fail("mf_env is parametrized by the microforge plugin; do not request it indirectly "
                    "from a fixture", pytrace=False)
    return request.param


@pytest.fixture(scope="session")
def mf_reference(mf_project: Path) -> Reference:
    return Reference(model_path(mf_project))


def _build_once(project: Path, env: str) -> Path:
    key = (project, env)
    if key not in _BUILT:
        try:
            _BUILT[key] = build(project, env)
        except ToolError as exc:
            _BUILT[key] = f"{exc}"
    result = _BUILT[key]
    if isinstance(result, str):
        pytest.fail(f"build of env '{env}' failed: {result}", pytrace=False)
    return result


@pytest.fixture
def mf_dut(request: pytest.FixtureRequest, mf_project: Path, mf_env: EnvSpec) -> Iterator[MfDut]:
    """Builds the env, starts its firmware, waits for the boot banner; ends it afterwards."""
    build_dir = _build_once(mf_project, mf_env.name)
    msg_queue = request.getfixturevalue("msg_queue")
    pexpect_proc = request.getfixturevalue("pexpect_proc")
    logfile = request.getfixturevalue("_pexpect_logfile")
    port = _port(request.config, mf_env)
    if mf_env.kind == "hardware" and port:
        # xdist: one worker per board at a time (released when the test's fixtures end)
        lock = file_lock(mf_project / ".pio" / f"mf-device-{Path(port).name}.lock")
        lock.__enter__()
        request.addfinalizer(lambda: lock.__exit__(None, None, None))
    try:
        transport = start(mf_env, build_dir, port, int(request.config.getoption("mf_baud")),
                          sink=msg_queue.put, project=mf_project)
    except ToolError as exc:
        pytest.fail(str(exc), pytrace=False)
    dut = MfDut(transport, pexpect_proc=pexpect_proc, msg_queue=msg_queue,
                app=App(app_path=str(mf_project), build_dir=str(build_dir)),
                pexpect_logfile=logfile, test_case_name=request.node.name,
                meta=request.getfixturevalue("_meta"))
    try:
        if mf_env.kind == "hardware":
            dut.client.sync(BOOT_TIMEOUT)
        else:
            dut.client.wait_boot(BOOT_TIMEOUT)
    except ProtocolError as exc:
        dut.close()
        pytest.fail(f"{mf_env.name}: the firmware did not boot: {exc} (log: {logfile})",
                    pytrace=False)
    yield dut
    _finish(dut, mf_env, logfile)


def _finish(dut: MfDut, env: EnvSpec, logfile: str) -> None:
    """Sends ``mf-exit%`` and checks that a process firmware then exits with status 0."""
    transport = dut.transport
    alive = getattr(transport, "returncode", None) is None
    if alive:
        dut.client.exit()
    dut.close()
    code = getattr(transport, "returncode", 0)
    if alive and code not in (0, None):
        pytest.fail(f"{env.name}: the firmware exited with status {code} after mf-exit "
                    f"(log: {logfile})", pytrace=False)


@pytest.fixture
def mf_device(mf_dut: MfDut) -> DeviceClient:
    """The protocol client of a booted firmware (see ``mf_dut``)."""
    return mf_dut.client


@pytest.fixture
def mf_serial(request: pytest.FixtureRequest, mf_project: Path,
              mf_env: EnvSpec) -> Iterator[Callable[..., DeviceClient]]:
    """Emulator envs only (skips others): the firmware behind a serial port, as a board is."""
    if mf_env.kind != "emulator":
        pytest.skip(f"env '{mf_env.name}': the serial-port path is exercised on emulators "
                    "(real boards use it in every test)")
    build_dir = _build_once(mf_project, mf_env.name)
    started: list[QemuSerial] = []

    def launch(paused: bool = False) -> DeviceClient:
        try:
            link = QemuSerial(build_dir, mf_env, paused=paused)
        except ToolError as exc:
            pytest.fail(str(exc), pytrace=False)
        started.append(link)
        return DeviceClient(link.transport)

    yield launch
    for link in started:
        link.close()
