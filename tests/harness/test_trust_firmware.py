"""Results from a board must be trustworthy, on the real firmware (host and QEMU): the build hash
refuses a stale or foreign firmware (also with ``verify --no-flash``), faults and stack overflows
are reported over serial with the fault kind and pc instead of a timeout, and the stack's
high-water mark is reported by ``mf-info``."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from microforge.boards import get_boards
from microforge.cli import main as cli_main
from microforge.device import verify as verify_mod
from microforge.device.envs import read_envs
from microforge.device.protocol import BuildMismatch, DeviceClient, DeviceFault
from microforge.device.reference import Reference, to_bytes
from microforge.device.runner import build, start
from microforge.lower.lowering import lower
from microforge.model import read_model
from microforge.project import budget, stackbound
from microforge.project.buildhash import project_hash
from microforge.project.scaffold import generate
from support import EXAMPLES, SHARED_MODELS

KWS = SHARED_MODELS / "mlperf_tiny/kws/kws_ref_model.tflite"

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("g++", "arm-none-eabi-g++", "qemu-system-arm")),
    reason="needs g++, gcc-arm-none-eabi and qemu-system-arm")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sine on host, qemu-m4 (ARMv7-M: guard words) and qemu-m55 (ARMv8-M: MSPLIM), each built with
    the test-only ``mf-fault`` command."""
    path = generate(EXAMPLES / "sine_int8.tflite", ["host", "qemu-m4", "qemu-m55"],
                    tmp_path_factory.mktemp("trust") / "proj")
    ini = path / "platformio.ini"
    text = ini.read_text().replace("-D MF_PORT_MPS2=1", "-D MF_PORT_MPS2=1 -D MF_TEST_FAULT=1")
    ini.write_text(text.replace("-D MF_PORT_HOST=1", "-D MF_PORT_HOST=1 -D MF_TEST_FAULT=1"))
    for env in ("host", "qemu-m4", "qemu-m55"):
        build(path, env)
    return path


def _client(project: Path, env: str) -> DeviceClient:
    spec = next(s for s in read_envs(project) if s.name == env)
    transport = start(spec, project / ".pio" / "build" / env, None, 115200, sink=lambda _: None,
                      project=project)
    client = DeviceClient(transport, expected_build=project_hash(project, next((project / "model").glob("*.tflite"))))
    client.wait_boot(30.0)
    return client


def _symbol_range(elf: Path, name: str) -> tuple[int, int]:
    out = subprocess.run(["arm-none-eabi-nm", "-C", "-S", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and name in parts[3]:
            return int(parts[0], 16), int(parts[0], 16) + int(parts[1], 16)
    raise AssertionError(f"{name} not in {elf}")


@pytest.mark.parametrize("env", ["qemu-m4", "qemu-m55"])
@pytest.mark.parametrize(("command", "kind", "name"), [("mf-fault", "usage", "UsageFault"),
                                                       ("mf-fault hard", "hard", "HardFault"),
                                                       ("mf-fault bus", "bus", "BusFault")])
def test_a_fault_is_reported_with_its_kind_and_pc(project: Path, env: str, command: str, kind: str,
                                                  name: str) -> None:
    client = _client(project, env)
    try:
        with pytest.raises(DeviceFault) as err:
            client.command(command, timeout=10.0)
        transport = client.transport
        exit_code = transport.proc.wait(5.0)  # type: ignore[attr-defined]
    finally:
        client.transport.close()
    lo, hi = _symbol_range(project / ".pio" / "build" / env / "firmware.elf", "cmd_mf_fault")
    assert err.value.kind == kind and err.value.pc is not None and lo <= err.value.pc < hi
    text = str(err.value)
    assert re.search(rf"{name} at pc 0x[0-9a-f]{{8}} \(lr 0x[0-9a-f]{{8}}\) during command '{command}%'", text)
    assert f"m-mf-fault-{kind}-pc-" in text  # the line itself, among the last lines seen
    assert exit_code == 0x80 | {"hard": 3, "bus": 5, "usage": 6}[kind]  # halted: semihosting exit


def test_a_fault_on_the_host_env_is_reported_with_its_signal(project: Path) -> None:
    """The host firmware dies by a signal: it says which before it exits, not a bare EOF."""
    client = _client(project, "host")
    try:
        with pytest.raises(DeviceFault) as err:
            client.command("mf-fault", timeout=10.0)  # __builtin_trap(): SIGILL on x86 and arm64
        exit_code = client.transport.proc.wait(5.0)  # type: ignore[attr-defined]
    finally:
        client.transport.close()
    assert err.value.kind == "ill" and err.value.pc is None
    assert "illegal instruction (SIGILL) during command 'mf-fault%'" in str(err.value)
    assert "gdb" in err.value.hint
    assert exit_code == 128 + signal.SIGILL


@pytest.mark.parametrize(("env", "kind"), [("qemu-m4", "stack-guard"), ("qemu-m55", "stack")])
def test_a_stack_overflow_is_reported(project: Path, env: str, kind: str) -> None:
    """ARMv7-M: the guard words below the stack, checked after the command; ARMv8-M: MSPLIM
    faults at the first push below the stack."""
    client = _client(project, env)
    try:
        with pytest.raises(DeviceFault, match="stack overflow") as err:
            client.command("mf-fault stack", timeout=10.0)
    finally:
        client.transport.close()
    assert err.value.kind == kind
    if kind == "stack":
        lo, hi = _symbol_range(project / ".pio" / "build" / env / "firmware.elf", "burn_stack")
        assert err.value.pc is not None and lo <= err.value.pc < hi


@pytest.mark.parametrize("env", ["qemu-m4", "qemu-m55"])
def test_mf_info_reports_the_stack_high_water_mark(project: Path, env: str) -> None:
    client = _client(project, env)
    try:
        client.load(b"\x10")
        client.run()
        info = client.info()
        client.exit()
    finally:
        client.transport.close()
    assert info.stack_size == 65536  # the board's build.stack_size
    assert info.stack_used is not None and 64 < info.stack_used < 4096


@pytest.mark.parametrize("env", ["host", "qemu-m4"])
def test_verify_no_flash_checks_the_build_hash(project: Path, env: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--no-flash runs what is there (no build); a firmware from before the project changed (a stale
    flash) is refused, naming both hashes and the fix."""
    report = verify_mod.verify(project, env, count=2, litert=False, flash=False)
    assert report.ok
    plan = project / "src" / "model" / "model_plan.cpp"
    before = project_hash(project, next((project / "model").glob("*.tflite")))
    original = plan.read_text()
    plan.write_text(original + "// the project changed after its firmware was built\n")
    try:
        after = project_hash(project, next((project / "model").glob("*.tflite")))
        code = cli_main(["verify", str(project), "--env", env, "--count", "1", "--no-flash"])
        err = capsys.readouterr().err
        assert code == BuildMismatch.exit_code
        assert before in err and after in err and "another model or project" in err
        assert "rebuild and flash this project" in err
    finally:
        plan.write_text(original)


def test_no_flash_needs_an_existing_build(tmp_path: Path) -> None:
    path = generate(EXAMPLES / "sine_int8.tflite", ["host"], tmp_path / "fresh")
    with pytest.raises(Exception, match="never built"):
        verify_mod.verify(path, "host", count=1, litert=False, flash=False)


def _static_bound(model_file: Path, board_id: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """The fit check's stack figure for this board, which must come from the call graph."""
    seen: list[stackbound.StackBound] = []
    real = stackbound.firmware_bound

    def spy(*args: object) -> stackbound.StackBound:
        seen.append(real(*args))  # type: ignore[arg-type]
        return seen[-1]

    monkeypatch.setattr(stackbound, "firmware_bound", spy)
    board = get_boards([board_id])[0]
    figure = budget.measure(lower(read_model(model_file), [board]), board).stack_bytes
    assert seen and seen[0].bytes == figure, seen
    return figure


def _high_water_mark(project: Path, env: str, count: int) -> int:
    ref = Reference(next((project / "model").glob("*.tflite")))
    client = _client(project, env)
    try:
        for inputs in ref.random_inputs(3, count):
            client.load(to_bytes(inputs))
            assert client.run().outputs == [a.tobytes() for a in ref.run(inputs)]
        client.command("infer 2 1")
        info = client.info()
        client.exit()
    finally:
        client.transport.close()
    assert info.stack_used is not None
    return info.stack_used


@pytest.mark.parametrize("env", ["qemu-m4", "qemu-m55"])
def test_the_measured_stack_stays_within_the_static_bound(project: Path, env: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    bound = _static_bound(next((project / "model").glob("*.tflite")), env, monkeypatch)
    used = _high_water_mark(project, env, 3)
    assert 0 < used <= bound


def test_kws_stack_stays_within_the_static_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if not KWS.is_file():
        pytest.skip(f"{KWS} not present (../shared is optional)")
    project = generate(KWS, ["qemu-m4"], tmp_path / "kws")
    build(project, "qemu-m4")
    bound = _static_bound(KWS, "qemu-m4", monkeypatch)
    used = _high_water_mark(project, "qemu-m4", 2)
    assert 1024 < used <= bound


def test_verify_no_flash_on_a_board_uses_what_it_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hardware env with --no-flash: the "board" is this project's QEMU firmware on a
    pseudo-terminal (as a USB serial device is): verified without any upload; the same board
    running another project's firmware (a sibling board on the same VID:PID) is refused."""
    from microforge.device import runner as dut_mod
    from microforge.device.runner import qemu_command, qemu_on_pty

    def no_upload(*_: object, **__: object) -> None:
        raise AssertionError("--no-flash must not upload")

    monkeypatch.setattr(dut_mod, "upload", no_upload)
    ours = generate(EXAMPLES / "sine_int8.tflite", ["qemu-m4", "nano33ble"], tmp_path / "ours")
    other = generate(EXAMPLES / "sine_int8_float_io.tflite", ["qemu-m4"], tmp_path / "other")
    for path in (ours, other):
        build(path, "qemu-m4")
    spec = next(s for s in read_envs(ours) if s.name == "qemu-m4")
    for firmware, ok in ((ours, True), (other, False)):
        proc, pty = qemu_on_pty(qemu_command(firmware / ".pio" / "build" / "qemu-m4", spec))
        try:
            if ok:
                report = verify_mod.verify(ours, "nano33ble", count=2, port=pty, litert=False, flash=False)
                assert report.ok and len(report.results) == 2
            else:
                with pytest.raises(BuildMismatch, match="another model or project"):
                    verify_mod.verify(ours, "nano33ble", count=2, port=pty, litert=False, flash=False)
        finally:
            proc.kill()
            proc.wait()
