"""Building a project env, flashing it, and starting its firmware (host process, QEMU, real board).

Used by ``microforge verify``, the benchmarks and the pytest plugin (which wraps the transport in
a pytest-embedded ``Dut``: microforge.harness.dut). The transport's line queue blocks (no busy
polling) and reports the firmware's exit at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from microforge.device.envs import EnvSpec, model_path, read_envs
from microforge.device.transport import ProcessTransport, SerialTransport, Sink
from microforge.errors import ToolError
from microforge.project.buildhash import project_hash

BUILD_TIMEOUT = 900.0
UPLOAD_TIMEOUT = 300.0


@contextlib.contextmanager
def file_lock(path: Path, waiting: str = "") -> Iterator[None]:
    """An exclusive lock between processes (xdist workers) on ``path``; says ``waiting`` (on stderr)
    when another process holds it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                print(waiting, file=sys.stderr, flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def pio_env(local: bool = True) -> dict[str, str]:
    """Environment for ``pio``. Host and QEMU envs (``local``) build in microforge's private core dir,
    seeded for offline use; real boards in the user's own environment: their usual core dir, with
    the platforms and toolchains they installed, is never moved."""
    try:
        from microforge.project import pio_env
    except ImportError:
        return dict(os.environ)
    if not local:
        return dict(os.environ)
    core = pio_env.default_core_dir()
    with file_lock(core.parent / f".{core.name}.seed.lock"):
        pio_env.seed_core_dir(core)
    return pio_env.pio_environ(core)


def _pio() -> list[str]:
    """PlatformIO of the running Python (it is a dependency), else the one on PATH."""
    if importlib.util.find_spec("platformio") is not None:
        return [sys.executable, "-m", "platformio"]
    exe = shutil.which("pio") or shutil.which("platformio")
    if exe is None:
        raise ToolError("PlatformIO (pio) is not installed", hint="pip install platformio==6.2.0")
    return [exe]


def is_local_env(project: Path, env: str) -> bool:
    """True for a host or QEMU env (microforge's own platform), False for a real board."""
    return any(spec.name == env and spec.kind in ("host", "emulator") for spec in read_envs(project))


def run_pio(project: Path, args: list[str], log: Path, timeout: float, local: bool = True) -> None:
    """Runs ``pio <args>`` in ``project``; output goes to ``log``; raises ToolError with its tail."""
    cmd = [*_pio(), *args, "-d", str(project)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        try:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=pio_env(local),
                                  timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ToolError(f"'{' '.join(cmd)}' took more than {timeout:g} s (log: {log})") from None
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise ToolError(f"'{' '.join(args)}' failed with exit code {proc.returncode} "
                        f"(full log: {log}):\n{tail}")


def build(project: Path, env: str) -> Path:
    """``pio run -e <env>``, serialized across processes per PlatformIO core dir.

    Each project links its own copy of the platform into the core dir under the one name
    ``microforge`` (``symlink://``), so two projects building at once race on that link.
    """
    log = project / ".pio" / f"mf-build-{env}.log"
    local = is_local_env(project, env)
    core = Path(pio_env(local).get("PLATFORMIO_CORE_DIR", Path.home() / ".platformio"))
    lock = core / ".microforge-build.lock"
    with file_lock(lock, f"waiting for another microforge build using the PlatformIO core dir {core} "
                         f"to finish (lock: {lock})"):
        run_pio(project, ["run", "-e", env], log, BUILD_TIMEOUT, local)
    return project / ".pio" / "build" / env


def host_command(build_dir: Path) -> list[str]:
    """The native executable: the argv the platform leaves in mf-run.json, else the program."""
    run_json = build_dir / "mf-run.json"
    if run_json.is_file():
        argv = json.loads(run_json.read_text(encoding="utf-8")).get("argv")
        if argv and Path(argv[0]).is_file():
            return [str(a) for a in argv]
    for name in ("program", "firmware"):
        if (build_dir / name).is_file():
            return [str(build_dir / name)]
    raise ToolError(f"no native executable in {build_dir}: did the host build succeed?")


def qemu_command(build_dir: Path, spec: EnvSpec) -> list[str]:
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        raise ToolError("qemu-system-arm is not on PATH", hint="apt-get install qemu-system-arm")
    return [qemu, "-M", spec.qemu_machine, "-cpu", spec.qemu_cpu, "-nographic", "-monitor", "none",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=6",
            "-kernel", str(build_dir / "firmware.elf")]


PTY_LINE = re.compile(rb"char device redirected to (/dev/\S+) \(label serial0\)")


def qemu_on_pty(argv: list[str], timeout: float = 10.0) -> tuple[subprocess.Popen[bytes], str]:
    """Starts QEMU (``argv`` without ``-serial``) with its UART on a new pseudo-terminal, as a
    board's USB serial device is: returns the process and the pty's path (``/dev/pts/N``)."""
    out = tempfile.TemporaryFile()
    proc = subprocess.Popen([*argv, "-serial", "pty"], stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    while True:
        out.seek(0)
        text = out.read()
        found = PTY_LINE.search(text)
        if found:
            out.close()  # QEMU keeps its own handle; nothing else is printed there
            return proc, found.group(1).decode()
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            out.close()
            raise ToolError(f"QEMU did not open a pty for its serial port within {timeout:g} s: "
                            f"{text.decode(errors='replace').strip() or 'no output'}")
        time.sleep(0.02)


class QemuSerial:
    """The QEMU firmware with its UART on a pseudo-terminal, reached the way a real board is:
    pytest-embedded's stock serial service on a device path (``SerialTransport``). ``paused``
    starts QEMU with its CPU stopped (``-S``): the port opens but nothing ever answers.
    Close with ``close()``."""

    def __init__(self, build_dir: Path, spec: EnvSpec, sink: Sink | None = None,
                 paused: bool = False, open_timeout: float = 10.0) -> None:
        argv = qemu_command(build_dir, spec) + (["-S"] if paused else [])
        self.proc, self.port = qemu_on_pty(argv, open_timeout)
        try:
            self.transport = SerialTransport(self.port, sink=sink, open_timeout=open_timeout)
        except ToolError:
            self.proc.kill()
            self.proc.wait()
            raise

    def close(self) -> None:
        self.transport.close()
        self.proc.kill()
        self.proc.wait(5.0)


def upload(project: Path, env: str, port: str, wait: float = 30.0) -> None:
    """Flashes with ``pio run -t upload`` and waits for the (USB) serial port to come back."""
    log = project / ".pio" / f"mf-upload-{env}.log"
    with file_lock(project / ".pio" / f"mf-port-{Path(port).name}.lock"):
        run_pio(project, ["run", "-e", env, "-t", "upload", "--upload-port", port], log,
                UPLOAD_TIMEOUT, local=False)
    deadline = time.monotonic() + wait
    delay = 0.05
    while not Path(port).exists() or not os.access(port, os.R_OK | os.W_OK):
        if time.monotonic() > deadline:
            raise ToolError(f"{port} did not come back within {wait:g} s after the upload")
        time.sleep(delay)
        delay = min(delay * 2, 0.5)
    time.sleep(0.5)  # the board re-enumerates before its firmware listens


def expected_build(project: Path) -> str | None:
    """The build hash a firmware built from ``project`` reports (None: not a generated project)."""
    try:
        return project_hash(project, model_path(project))
    except FileNotFoundError:
        return None


def start(spec: EnvSpec, build_dir: Path, port: str | None, baud: int, sink: Sink,
          project: Path, flash: bool = True) -> ProcessTransport | SerialTransport:
    """The transport to a freshly started firmware (host process, QEMU, or a flashed board).
    ``flash=False``: a real board keeps the firmware it has (``verify --no-flash``)."""
    if spec.kind == "host":
        return ProcessTransport(host_command(build_dir), name=f"host:{spec.name}", sink=sink,
                                cwd=project)
    if spec.kind == "emulator":
        return ProcessTransport(qemu_command(build_dir, spec),
                                name=f"qemu:{spec.qemu_machine}:{spec.name}", sink=sink, cwd=project)
    if spec.kind == "hardware" and port:
        if flash:
            upload(project, spec.name, port)
        return SerialTransport(port, baud, sink=sink, reopenable=True)
    raise ToolError(f"env '{spec.name}' (kind '{spec.kind}') cannot be started here")
