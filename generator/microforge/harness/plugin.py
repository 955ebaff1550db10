"""pytest plugin ``microforge``: run a generated project's firmware and check it.

Registered through the ``pytest11`` entry point. It is an ordinary plugin on top of
pytest-embedded (which cannot take new services): it reuses its message queue, log files and
``Dut`` (``dut.log`` under the pytest-embedded log dir), and its ``--port`` option for real boards.

Fixtures:
  mf_project    the project dir (``--mf-project``, else the pytest rootdir)
  mf_env        one runnable env of the project's platformio.ini (parametrized, id = env name,
                marked with the env name: ``-m nano33ble`` selects exactly that env)
  mf_port       the serial port of a real-board env (None for host and emulator envs)
  mf_dut        the started firmware as a pytest-embedded ``Dut`` (``.client``, ``.transport``)
  mf_device     its ``DeviceClient``; the firmware is built, booted, and ended with ``mf-exit%``
  mf_reference  the TFLM reference interpreter for the project's model
  mf_serial     factory for emulator envs: ``mf_serial(paused=False)`` starts the QEMU firmware with
                its UART on a pseudo-terminal and returns a ``DeviceClient`` over the real-board
                path (pytest-embedded's stock serial service, ``SerialTransport``), not yet
                synced; stopped afterwards
  mf_count, mf_seed   ``--mf-count`` / ``--mf-seed``

Selecting envs: every test of an env carries a marker named after it, so ``-m nano33ble`` selects
that env and not ``nano33ble_rev2``. ``-k`` matches env names exactly too: a name of the ``-k``
expression that is the name of an env of the project matches that env's tests only, so
``-k nano33ble`` (or ``-k "not nano33ble"``) leaves ``nano33ble_rev2`` alone. Every other name is
pytest's own ``-k``, a case-insensitive substring of the test's names: ``-k nano33`` selects both
Nanos, ``-k rev2`` the Rev2, ``-k "test_bitexact and nano33ble"`` one test of one env. (This uses
pytest's private ``-k`` parser and matcher; a pytest without them keeps plain substring matching.)

Ports of real boards (see ``ports.py``): ``--port=PORT`` or ``--port=ENV=PORT`` (pytest-embedded's
option: one value, always in the ``--port=...`` form), and ``--mf-port ENV=PORT``, once per board.
A bare port serves the one selected real-board env; an env without a port is found by its USB
VID:PID (``custom_microforge_usb``). Boards sharing a VID:PID are never guessed: a port two
selected envs would auto-detect, or two ports matching one env, fail that env's tests (before
anything is built or flashed) with the envs, the ports, and the ``ENV=PORT`` to pass.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Generator, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

import pytest
from pytest_embedded.app import App

from microforge.device.envs import EnvSpec, model_path, read_envs
from microforge.device.ports import PortChoice, PortError, PortOption, parse_port_option, resolve_ports, usb_ports
from microforge.device.protocol import DeviceClient, ProtocolError
from microforge.device.reference import Reference
from microforge.device.runner import QemuSerial, build, file_lock, start
from microforge.errors import ToolError
from microforge.harness.dut import MfDut

try:  # pytest's own -k parser and matcher (private): without them -k only loses the exact env names
    from _pytest.mark import KeywordMatcher
    from _pytest.mark.expression import Expression
except ImportError:
    _KEYWORD_API: tuple[Any, Any] | None = None
else:
    _KEYWORD_API = (Expression, KeywordMatcher)

BOOT_TIMEOUT = 30.0
_BUILT: dict[tuple[Path, str], Path | str] = {}  # per worker: build dir, or the build error
_PORT_OPTION = pytest.StashKey[PortOption]()
_PORTS = pytest.StashKey[dict[str, PortChoice]]()  # real-board env -> its port, none, or an error
_MARKED = pytest.StashKey[set[str]]()  # envs whose tests carry a marker of their name
_ENV_NAMES = pytest.StashKey[frozenset[str]]()  # the project's env names, lower case (for -k)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("microforge")
    group.addoption("--mf-project", help="generated project to test (default: the rootdir)")
    group.addoption("--mf-count", type=int, default=100,
                    help="number of seeded random inputs per env (default 100)")
    group.addoption("--mf-seed", type=int, default=1234, help="seed of the random inputs")
    group.addoption("--mf-baud", type=int, default=115200, help="baud rate for real boards")
    group.addoption("--mf-port", action="append", default=[], metavar="ENV=PORT",
                    help="serial port of one real-board env, e.g. --mf-port nano33ble=/dev/ttyACM0; "
                         "once per board")
    # --port comes from pytest-embedded (always pass it in full: --port=/dev/ttyACM0); we also read
    # --port=ENV=PORT (see the module docstring).


def _project(config: pytest.Config) -> Path:
    opt = config.getoption("mf_project")
    return Path(opt).resolve() if opt else Path(config.rootpath).resolve()


def _port_value(config: pytest.Config) -> str | None:
    try:
        value = config.getoption("port")
    except ValueError:  # pytest-embedded not loaded
        return None
    return value if isinstance(value, str) else None


def _repeated_port_flags(args: list[str]) -> int:
    return sum(1 for a in args if a == "--port" or a.startswith("--port="))


@pytest.hookimpl(trylast=True)  # after the other plugins registered their markers
def pytest_configure(config: pytest.Config) -> None:
    envs = read_envs(_project(config))
    if not envs:
        return  # not a generated project: --port stays pytest-embedded's alone
    known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
    marked = set()
    for env in envs:
        if env.name in known:
            continue  # an env named like another plugin's marker (skip, timeout...): -k only
        config.addinivalue_line("markers", f"{env.name}: tests of the env '{env.name}' (microforge): "
                                           f"-m {env.name} selects exactly this env")
        marked.add(env.name)
    config.stash[_MARKED] = marked
    config.stash[_ENV_NAMES] = frozenset(env.name.lower() for env in envs)
    if _repeated_port_flags(list(config.invocation_params.args)) > 1:
        raise pytest.UsageError(
            "--port is given more than once, and pytest keeps only the last one: give each board "
            "its port with --mf-port ENV=PORT, e.g. --mf-port nano33ble=/dev/ttyACM0 "
            "--mf-port nano33ble_rev2=/dev/ttyACM1")
    value = _port_value(config)
    items = len(value.split("|")) if value else 0
    if items > 1 and str(config.getoption("count", 1)) != str(items):
        raise pytest.UsageError(
            f"--port={value} has {items} '|'-separated items: pytest-embedded reads that as its "
            f"multi-DUT form, which needs --count={items}. To give each board its port, use "
            "--mf-port ENV=PORT once per board, e.g. --mf-port nano33ble=/dev/ttyACM0 "
            "--mf-port nano33ble_rev2=/dev/ttyACM1")
    try:
        config.stash[_PORT_OPTION] = parse_port_option(value, envs, config.getoption("mf_port") or [])
    except PortError as exc:
        raise pytest.UsageError(f"{exc}{f' ({exc.hint})' if exc.hint else ''}") from None


def _item_env(item: pytest.Item) -> EnvSpec | None:
    callspec = getattr(item, "callspec", None)
    env = callspec.params.get("mf_env") if callspec is not None else None
    return env if isinstance(env, EnvSpec) else None


class _EnvKeywordMatcher:
    """pytest's ``-k`` matcher for a test of env ``env``, where the name of another env of the project
    matches only the test's other names: not ``env``'s marker nor its id in the test's name."""

    def __init__(self, matcher: Any, item: pytest.Item, env: str, env_names: AbstractSet[str]) -> None:
        self._matcher = matcher
        self._env = env.lower()
        self._env_names = env_names
        names: AbstractSet[str] = matcher._names  # AttributeError if pytest changed it: no refinement
        others = {name for name in names if name.lower() != self._env and name != item.name}
        # the env's id among the test's parameter ids ("-"-joined); NUL is in no -k identifier
        head, bracket, ids = item.name.partition("[")
        others.add(head + bracket + re.sub(rf"(?<![^-]){re.escape(env)}(?=-|\]$)", "\0", ids))
        self._without_env = type(matcher)(others)

    def __call__(self, name: str, /, **kwargs: Any) -> bool:
        key = name.lower()
        if key in self._env_names and key != self._env:
            return bool(self._without_env(name, **kwargs))
        return bool(self._matcher(name, **kwargs))


def _select_by_keyword(config: pytest.Config,
                       items: list[pytest.Item]) -> tuple[list[pytest.Item], list[pytest.Item]] | None:
    """(selected, deselected) by ``-k`` with env names matched exactly; None where that is pytest's
    own ``-k`` (no ``-k``, no env name in it, a syntax error for pytest to report, no private API)."""
    expression = (getattr(config.option, "keyword", None) or "").lstrip()
    env_names = config.stash.get(_ENV_NAMES, frozenset())
    if not expression or not env_names or _KEYWORD_API is None:
        return None
    expression_type, matcher_type = _KEYWORD_API
    try:
        expr = expression_type.compile(expression)
    except SyntaxError:
        return None
    idents = getattr(expr, "idents", None)
    if callable(idents) and not {ident.lower() for ident in idents()} & env_names:
        return None
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    try:
        for item in items:
            matcher = matcher_type.from_item(item)
            env = _item_env(item)
            if env is not None:
                matcher = _EnvKeywordMatcher(matcher, item, env.name, env_names)
            (selected if expr.evaluate(matcher) else deselected).append(item)
    except (AttributeError, TypeError):  # pytest's private API changed: its own -k decides
        return None
    return selected, deselected


@pytest.hookimpl(specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_keyword(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``-k`` with exact env names. A plain hook of a plugin registered after pytest's own, it runs
    before ``_pytest.mark``'s ``-k`` (and after conftests' hooks): when an env name is in ``-k``, it
    does the ``-k`` selection itself and blanks ``-k`` for pytest's (restored by the wrapper below)."""
    selection = _select_by_keyword(config, items)
    if selection is None:
        return
    selected, deselected = selection
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    config.option.keyword = ""


@pytest.hookimpl(wrapper=True, specname="pytest_collection_modifyitems")
def pytest_collection_modifyitems_keyword_restore(config: pytest.Config) -> Generator[None, None, None]:
    keyword = getattr(config.option, "keyword", None)
    try:
        return (yield)
    finally:
        if keyword is not None:
            config.option.keyword = keyword


@pytest.hookimpl(trylast=True)  # after -k / -m deselected: ports go to the envs actually tested
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected: dict[str, EnvSpec] = {}
    for item in items:
        env = _item_env(item)
        if env is not None and env.kind == "hardware":
            selected.setdefault(env.name, env)
    if not selected:
        return
    choices = resolve_ports(list(selected.values()), config.stash.get(_PORT_OPTION, PortOption()),
                            usb_ports())
    config.stash[_PORTS] = choices
    for item in items:
        env = _item_env(item)
        if env is not None and env.name in choices:
            choice = choices[env.name]
            if choice.port is None and not choice.error:
                reason = env.skip_reason(None, port_option=f"--port={env.name}=<serial port>")
                item.add_marker(pytest.mark.skip(reason=reason or ""))


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    """One line per selected real board: the port it will be flashed through, and how it was found."""
    lines = []
    for name, choice in config.stash.get(_PORTS, {}).items():
        if choice.port:
            lines.append(f"microforge: env {name} on {choice.port} ({choice.how})")
        elif choice.error:
            lines.append(f"microforge: env {name}: no port, ambiguous (see its test errors)")
    return lines


def _env_port(config: pytest.Config, env: EnvSpec) -> str | None:
    """The port chosen for a real-board env at collection; fails its test on an ambiguous port."""
    if env.kind != "hardware":
        return None
    choices = config.stash.get(_PORTS, {})
    if env.name not in choices:  # not collected through this plugin's hook: decide for it alone
        choices = resolve_ports([env], config.stash.get(_PORT_OPTION, PortOption()), usb_ports())
    choice = choices[env.name]
    if choice.error:
        pytest.fail(choice.error, pytrace=False)
    return choice.port


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
    marked = metafunc.config.stash.get(_MARKED, set())
    params = []
    for env in envs:
        marks = [pytest.mark.xdist_group(name=f"mf-{env.name}")]
        if env.name in marked:
            marks.append(getattr(pytest.mark, env.name))
        # real boards: skipped at collection's end when no port is found (pytest_collection_modifyitems)
        reason = None if env.kind == "hardware" else env.skip_reason(None)
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
    if isinstance(request.param, EnvSpec):
        _env_port(request.config, request.param)  # an ambiguous port fails the test here, before a build
    return request.param


@pytest.fixture
def mf_port(request: pytest.FixtureRequest, mf_env: EnvSpec) -> str | None:
    """The serial port of a real-board env (``--port`` or its USB VID:PID); None for the others."""
    return _env_port(request.config, mf_env)


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
    port = _env_port(request.config, mf_env)
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
    if dut.client.previous_fault is not None:
        warnings.warn(f"{mf_env.name}: at boot the board reported a fault that ended an earlier run: "
                      f"{str(dut.client.previous_fault).splitlines()[0]}", stacklevel=1)
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
