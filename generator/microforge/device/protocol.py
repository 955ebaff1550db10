"""Host side of the microforge serial protocol (EEMBC / MLPerf Tiny base + ``mf-`` extensions).

The client talks to any line transport: an object with ``name`` (the port or target, used in
error messages), ``send(text)`` and ``read_line(timeout) -> str``. ``read_line`` raises
``TimeoutError`` when no complete line arrived in time and ``EOFError`` when the link is closed
for good (the firmware process exited); the client turns both into errors that name the command,
the target and the last lines seen.

Every command ends with ``%``; every reply line starts with ``m-`` (``e-`` for errors) and the
reply ends with ``m-ready``. Lines that start with neither are noise (a boot banner, a bootloader
message) and are skipped.
"""

from __future__ import annotations

import re
import time
import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from microforge.errors import MicroforgeError

DEFAULT_TIMEOUT = 5.0  # the official runner's per-command timeout
INFER_TIMEOUT = 30.0
DEFAULT_CHUNK = 250  # bytes per `db` command: 500 hex digits, within the 1024-char line limit
MAX_CHUNK = 500  # the firmware accepts up to 1000 hex digits per `db`


class ProtocolError(MicroforgeError):
    """The device replied something the protocol does not allow, or an ``e-`` error."""

    exit_code = 9


class DeviceError(ProtocolError):
    """The device answered a command with an ``e-`` line."""


class DeviceTimeout(ProtocolError):
    """The device did not finish its reply in time."""


class DeviceGone(ProtocolError):
    """The link closed (the firmware exited or crashed, the port vanished) while a reply was pending."""


class DeviceReset(ProtocolError):
    """The boot banner appeared inside a reply: the device restarted; its state is lost."""


class LinkError(ProtocolError):
    """Bytes changed on the serial link: a CRC-32 of an input or of the outputs did not match."""


class DeviceFault(ProtocolError):
    """The firmware reported a CPU fault or a stack overflow (``m-mf-fault-...``) and halted."""

    def __init__(self, message: str, hint: str = "", kind: str = "", pc: int | None = None,
                 lr: int | None = None) -> None:
        super().__init__(message, hint)
        self.kind, self.pc, self.lr = kind, pc, lr


class BuildMismatch(ProtocolError):
    """The firmware on the device was built from another model or project (``m-mf-build-``)."""


BOOT_MARKERS = ("m-timestamp-mode-performance", "m-init-done")


class LineTransport(Protocol):
    name: str

    def send(self, text: str) -> None: ...

    def read_line(self, timeout: float) -> str: ...


@dataclass(frozen=True)
class TensorDesc:
    index: int
    dtype: str
    shape: tuple[int, ...]
    nbytes: int


@dataclass(frozen=True)
class DeviceInfo:
    version: str
    arena_bytes: int
    inputs: list[TensorDesc] = field(default_factory=list)
    outputs: list[TensorDesc] = field(default_factory=list)
    counter: str = "none"
    build: str = ""  # the build hash (microforge.project.buildhash); "" from a firmware that has none
    stack_used: int | None = None  # painted-stack high-water mark, bytes (None: the port cannot tell)
    stack_size: int | None = None  # the main stack's size, bytes

    @property
    def input_bytes(self) -> int:
        return sum(t.nbytes for t in self.inputs)


@dataclass(frozen=True)
class RunResult:
    outputs: list[bytes]
    us: int
    count: int


@dataclass(frozen=True)
class InferResult:
    start_us: int
    end_us: int
    runs: int
    results: list[float]

    @property
    def us_per_run(self) -> float:
        return (self.end_us - self.start_us) / max(self.runs, 1)


class Profile(NamedTuple):
    profile: str
    model: str


_STACK = re.compile(r"^m-mf-stack-used-(\d+)-of-(\d+)$")
_TENSOR = re.compile(r"^m-mf-(input|output)-(\d+)-([a-z0-9]+)-([0-9x]*)-(\d+)$")
# m-mf-fault-<kind>[-pc-<hex>-lr-<hex>]: printed by the port's fault handler before it halts
_FAULT = re.compile(r"^m-mf-fault-([a-z-]+?)(?:-pc-([0-9a-f]{8})-lr-([0-9a-f]{8}))?$")
# m-mf-reset-fault-<kind>[-pc-<hex>[-lr-<hex>]]: at boot, a fault that reset the board before it (the
# Arduino port keeps it across the reset: USB CDC cannot send from a fault handler)
_RESET_FAULT = re.compile(r"^m-mf-reset-fault-([a-z-]+?)(?:-pc-([0-9a-f]{8})(?:-lr-([0-9a-f]{8}))?)?$")
RECONNECT_TIMEOUT = 20.0  # a board's port back after a reset (Teensy 4 waits 8 s before it reboots)
FAULT_NAMES = {"hard": "HardFault", "memmanage": "MemManage fault", "bus": "BusFault",
               "usage": "UsageFault", "stack": "stack overflow (MSPLIM: the stack reached its limit)",
               "stack-guard": "stack overflow (the guard words below the stack were overwritten)",
               # the host env's signals
               "segv": "segmentation fault (SIGSEGV)", "ill": "illegal instruction (SIGILL)",
               "fpe": "arithmetic fault (SIGFPE)",
               "os": "fatal RTOS error (mbed)"}


def _bracketed(line: str, prefix: str) -> str:
    if not line.startswith(prefix) or not line.endswith("]"):
        raise ProtocolError(f"expected a line like '{prefix}...]', got {line!r}")
    return line[len(prefix) : -1]


def _int_after(line: str, prefix: str) -> int:
    if not line.startswith(prefix) or not line[len(prefix) :].isdigit():
        raise ProtocolError(f"expected '{prefix}<digits>', got {line!r}")
    return int(line[len(prefix) :])


class DeviceClient:
    """Speaks the protocol over one transport. Not thread-safe: one command at a time."""

    def __init__(self, transport: LineTransport, chunk_size: int = DEFAULT_CHUNK,
                 history: int = 12, expected_build: str | None = None) -> None:
        """expected_build: the build hash of the project under test; ``check_build()`` (and, when
        set, ``wait_boot()`` / ``sync()``) refuse a firmware that reports another."""
        if not 1 <= chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk_size must be 1..{MAX_CHUNK} bytes, got {chunk_size}")
        self.transport = transport
        self.chunk_size = chunk_size
        self.recent: deque[str] = deque(maxlen=history)
        self.boot_lines: list[str] = []
        self.expected_build = expected_build
        self.input_index = -1  # the input being run: loads counted from 0 unless the caller sets it
        self._loaded_crc: int | None = None  # CRC-32 of the last complete load()
        # The fault line the board printed at its last boot (m-mf-reset-fault-): the fault happened
        # before that boot, in an earlier run; wait_boot() keeps it (previous_fault) instead of failing.
        self._boot_fault_line = ""

    # -- plumbing -------------------------------------------------------------------------
    def _context(self, what: str) -> str:
        seen = "\n    ".join(self.recent) if self.recent else "(nothing)"
        partial = getattr(self.transport, "partial_line", None)
        tail = partial() if callable(partial) else ""
        more = f"\n  unfinished line (no newline yet): {tail[:120]!r}" if tail else ""
        return f"{what} on {self.transport.name}; last lines seen:\n    {seen}{more}"

    def _read_reply(self, what: str, timeout: float, booting: bool = False) -> list[str]:
        """Lines up to (not including) ``m-ready``; noise skipped, ``\\r`` stripped.

        ``timeout`` bounds the whole reply, not each line: a device that keeps printing noise
        cannot hold the client forever. Outside ``booting`` a boot banner line means the device
        restarted under us: ``DeviceReset`` (the caller may ``sync()`` and repeat the command).
        """
        lines: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                raw = self.transport.read_line(max(deadline - time.monotonic(), 0.0))
            except TimeoutError:
                raise DeviceTimeout(
                    self._context(f"no 'm-ready' within {timeout:g} s after {what}"),
                    hint="check that the firmware runs and speaks the protocol (baud, port)",
                ) from None
            except EOFError:
                if not booting:
                    self._after_lost_link(what)  # raises what the board says when it is back
                detail = getattr(self.transport, "exit_detail", None)
                how = f" ({detail()})" if callable(detail) else ""
                raise DeviceGone(
                    self._context(f"the device closed the link{how} during {what}"),
                    hint="the firmware exited or crashed: see the DUT log",
                ) from None
            line = raw.strip("\r\n")
            self.recent.append(line)
            if not line.startswith(("m-", "e-")):
                continue
            if line.startswith("m-mf-fault-"):
                raise self._fault(line, what)
            if line.startswith("m-mf-reset-fault-"):
                if not booting:  # a board whose port stays (a UART bridge) restarted mid-command
                    raise self._reset_fault(line, what)
                self._boot_fault_line = line
                continue
            if not booting and line in BOOT_MARKERS:
                raise DeviceReset(self._context(f"the device restarted during {what}"),
                                  hint="a reset or brown-out mid-run: check power and the reset line")
            if line == "m-ready":
                return lines
            lines.append(line)

    def _fault(self, line: str, what: str) -> DeviceFault:
        m = _FAULT.match(line)
        kind = m[1] if m else line.removeprefix("m-mf-fault-")
        pc = int(m[2], 16) if m and m[2] else None
        lr = int(m[3], 16) if m and m[3] else None
        where = f" at pc 0x{pc:08x} (lr 0x{lr:08x})" if pc is not None and lr is not None else ""
        if kind.startswith("stack"):
            hint = "the stack is too small for this model: see the fit report's stack bound"
        elif pc is not None:
            hint = "look the pc up in the firmware (arm-none-eabi-addr2line -e .pio/build/<env>/firmware.elf <pc>)"
        else:  # the host env: a signal, no pc
            hint = "run the program under a debugger to see where (gdb .pio/build/<env>/program)"
        return DeviceFault(self._context(f"the firmware faulted: {FAULT_NAMES.get(kind, kind)}{where} "
                                         f"during {what}, and halted"), hint, kind, pc, lr)

    def _reset_fault(self, line: str, what: str) -> DeviceFault:
        m = _RESET_FAULT.match(line)
        kind = m[1] if m else line.removeprefix("m-mf-reset-fault-")
        pc = int(m[2], 16) if m and m[2] else None
        lr = int(m[3], 16) if m and m[3] else None
        where = "" if pc is None else f" at pc 0x{pc:08x}" + ("" if lr is None else f" (lr 0x{lr:08x})")
        hint = ("look the pc up in the firmware (arm-none-eabi-addr2line -e .pio/build/<env>/firmware.elf <pc>)"
                if pc is not None else "see the fault's kind; rebuild with a larger stack if it is 'stack'")
        return DeviceFault(self._context(f"the firmware faulted: {FAULT_NAMES.get(kind, kind)}{where} during "
                                         f"{what}; the board reset and reported it when it restarted"),
                           hint, kind, pc, lr)

    def _after_lost_link(self, what: str) -> None:
        """The link closed during ``what``. A real board's port (``transport.reopen``) may come back
        after a reset (USB CDC re-enumerates): reopen it, read the boot banner, and raise the fault
        it reports (``m-mf-reset-fault-``), or ``DeviceReset``. Returns when the port stays away."""
        reopen = getattr(self.transport, "reopen", None)
        if not callable(reopen):
            return
        try:
            self.transport = reopen(RECONNECT_TIMEOUT)
        except MicroforgeError:
            return
        self._boot_fault_line = ""
        self._read_reply(f"the restart after {what}", RECONNECT_TIMEOUT, booting=True)
        line, self._boot_fault_line = self._boot_fault_line, ""
        if line:
            raise self._reset_fault(line, what)
        raise DeviceReset(self._context(f"the device restarted during {what}"),
                          hint="a reset or brown-out mid-run: check power and the reset line")

    @property
    def previous_fault(self) -> DeviceFault | None:
        """The fault the board reported at its last boot: one that ended an earlier run."""
        return self._reset_fault(self._boot_fault_line, "an earlier run") if self._boot_fault_line else None

    def wait_boot(self, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """Reads the boot banner up to ``m-ready``; raises if init failed (or, with
        ``expected_build``, if the firmware was built from another project)."""
        self.boot_lines = self._read_reply("boot", timeout, booting=True)
        if self.expected_build:
            self.check_build()  # first: another project's firmware may fail to init on its own terms
        self._raise_errors("boot", self.boot_lines)
        return self.boot_lines

    def check_build(self, info: DeviceInfo | None = None) -> str:
        """Refuses (``BuildMismatch``) a firmware whose build hash is not ``expected_build``;
        returns the hash. Asks ``mf-info%`` unless given its reply (which an init failure does
        not prevent: the build line comes first)."""
        if info is not None:
            build = info.build
        else:
            lines = self.command("mf-info", check=False)
            build = next((ln.removeprefix("m-mf-build-") for ln in lines if ln.startswith("m-mf-build-")), "")
        if self.expected_build and build != self.expected_build:
            got = f"build hash {build}" if build else "no build hash (an older firmware)"
            raise BuildMismatch(
                f"the firmware on {self.transport.name} was built from another model or project: it "
                f"reports {got}, this project's is {self.expected_build}; its results would not "
                "be this model's",
                "rebuild and flash this project onto this board (`microforge verify` without "
                "--no-flash, or `pio run -e <env> -t upload`); with several boards of one kind, "
                "name each env's port; if src/model/ was edited by hand, regenerate the project")
        return build

    def sync(self, timeout: float = DEFAULT_TIMEOUT, attempts: int = 3) -> None:
        """For links that may have missed the boot banner (serial): ``name%`` until it answers.

        Bytes the device received before the port was ours (line noise) end up in front of the
        first command and spoil it; an ``e-`` reply other than a failed init is therefore retried.
        A boot banner read on the way is kept in ``boot_lines``; a failed init raises.
        """
        for attempt in range(attempts):
            self.transport.send("name%")
            try:
                while True:
                    lines = self._read_reply("sync ('name%')", timeout, booting=True)
                    if any(ln.startswith("e-init-failed") for ln in lines):
                        self._raise_errors("boot", lines)
                    if any(ln.startswith("m-name-dut-") for ln in lines):
                        if self.expected_build:
                            self.check_build()
                        return
                    if any(ln.startswith("e-") for ln in lines):
                        break  # a spoiled command: send it again
                    self.boot_lines = lines
            except (DeviceTimeout, ProtocolError) as exc:
                if attempt == attempts - 1 or isinstance(exc, (DeviceGone, DeviceError, DeviceFault)):
                    raise
        raise ProtocolError(self._context(f"no clean reply to 'name%' after {attempts} attempts"))

    def _raise_errors(self, what: str, lines: Iterable[str]) -> None:
        errors = [ln for ln in lines if ln.startswith("e-")]
        if errors:
            raise DeviceError(self._context(f"{what} failed with {', '.join(errors)}"))

    def command(self, cmd: str, timeout: float = DEFAULT_TIMEOUT, check: bool = True) -> list[str]:
        """Sends ``cmd%`` and returns the reply lines before ``m-ready``.

        With ``check`` an ``e-`` line raises ``DeviceError``; without, it is returned.
        """
        cmd = cmd.removesuffix("%")
        self.transport.send(cmd + "%")
        lines = self._read_reply(f"command '{cmd}%'", timeout)
        if check:
            self._raise_errors("command 'mf-run%'", lines)
        return lines

    # -- EEMBC base -----------------------------------------------------------------------
    def name(self) -> str:
        (line,) = self._expect_count("name", 1)
        return _bracketed(line, "m-name-dut-[")

    def profile(self) -> Profile:
        lines = self._expect_count("profile", 2)
        return Profile(_bracketed(lines[0], "m-profile-["), _bracketed(lines[1], "m-model-["))

    def timestamp(self) -> int:
        (line,) = self._expect_count("timestamp", 1)
        return _int_after(line, "m-lap-us-")

    def load(self, data: bytes, timeout: float = DEFAULT_TIMEOUT, index: int | None = None) -> None:
        """``db load N`` then ``db <hex>`` chunks; checks ``m-load-done`` on the last one.

        ``run()`` then sends the data's CRC-32 along (``mf-run <crc>%``). ``index`` names the
        input in link errors (default: loads counted from 0)."""
        self.input_index = self.input_index + 1 if index is None else index
        self._loaded_crc = None
        (line,) = self._expect_count(f"db load {len(data)}", 1, timeout)
        if line != f"m-[Expecting {len(data)} bytes]":
            raise ProtocolError(self._context(f"unexpected reply to 'db load {len(data)}%': {line!r}"))
        for start in range(0, len(data), self.chunk_size):
            chunk = data[start : start + self.chunk_size]
            reply = self.command("db " + chunk.hex(), timeout)
            last = start + len(chunk) >= len(data)
            if reply != (["m-load-done"] if last else []):
                raise ProtocolError(
                    self._context(f"unexpected reply to db chunk at byte {start}: {reply!r}"))
        self._loaded_crc = zlib.crc32(data)

    def buffer(self) -> bytes:
        (line,) = self._expect_count("db print", 1)
        return bytes.fromhex(line.removeprefix("m-buffer-"))

    def infer(self, runs: int, warmup: int = 0, timeout: float = INFER_TIMEOUT) -> InferResult:
        lines = self.command(f"infer {runs} {warmup}", timeout)
        laps = [_int_after(ln, "m-lap-us-") for ln in lines if ln.startswith("m-lap-us-")]
        results = [ln for ln in lines if ln.startswith("m-results-[")]
        if len(laps) < 2 or len(results) != 1 or "m-infer-done" not in lines:
            raise ProtocolError(self._context(f"malformed reply to 'infer {runs} {warmup}%': {lines}"))
        return InferResult(laps[0], laps[-1], runs, _floats(results[0]))

    def results(self) -> list[float]:
        (line,) = self._expect_count("results", 1)
        return _floats(line)

    # -- microforge extensions ------------------------------------------------------------
    def info(self) -> DeviceInfo:
        lines = self.command("mf-info")
        version, arena, counter, build = "", -1, "none", ""
        stack: tuple[int, int] | None = None
        tensors: dict[str, list[TensorDesc]] = {"input": [], "output": []}
        for ln in lines:
            if m := _TENSOR.match(ln):
                shape = tuple(int(d) for d in m[4].split("x")) if m[4] else ()
                tensors[m[1]].append(TensorDesc(int(m[2]), m[3], shape, int(m[5])))
            elif ln.startswith("m-mf-version-"):
                version = ln.removeprefix("m-mf-version-")
            elif ln.startswith("m-mf-arena-"):
                arena = _int_after(ln, "m-mf-arena-")
            elif ln.startswith("m-mf-counter-"):
                counter = ln.removeprefix("m-mf-counter-")
            elif ln.startswith("m-mf-build-"):
                build = ln.removeprefix("m-mf-build-")
            elif m := _STACK.match(ln):
                stack = (int(m[1]), int(m[2]))
        if not version or arena < 0:
            raise ProtocolError(self._context(f"malformed reply to 'mf-info%': {lines}"))
        return DeviceInfo(version, arena, tensors["input"], tensors["output"], counter, build,
                          *(stack or (None, None)))

    def run(self, timeout: float = INFER_TIMEOUT) -> RunResult:
        """One inference on the loaded buffer: raw output bytes, microseconds, counter delta.

        After ``load()`` the input's CRC-32 goes along and the outputs come back with theirs:
        a byte changed on the link either way raises ``LinkError``, never a wrong result."""
        crc = self._loaded_crc
        cmd = "mf-run" if crc is None else f"mf-run {crc:08x}"
        lines = self.command(cmd, timeout, check=False)
        received = [ln for ln in lines if ln.startswith("e-mf-crc-mismatch-")]
        if received:
            got = received[0].removeprefix("e-mf-crc-mismatch-")
            raise LinkError(
                f"link error: checksum mismatch on input {self.input_index}: the host sent CRC-32 "
                f"{crc:08x}, the device received data with CRC-32 {got}; check the cable/baud "
                f"(on {self.transport.name})",
                "a bad byte on the serial link, not a wrong result: check the cable, the baud rate "
                "and the USB hub, then run again")
        self._raise_errors("command 'mf-run%'", lines)
        out_crc = None
        if crc is not None:
            if not lines or not lines[-1].startswith("m-mf-out-crc-"):
                raise ProtocolError(self._context(f"no 'm-mf-out-crc-' line in the reply to '{cmd}%': {lines}"))
            out_crc = lines.pop().removeprefix("m-mf-out-crc-")
        if len(lines) < 3:
            raise ProtocolError(self._context(f"malformed reply to 'mf-run%': {lines}"))
        us = _int_after(lines[0], "m-mf-us-")
        count = _int_after(lines[1], "m-mf-count-")
        outputs: list[bytes] = []
        for i, ln in enumerate(lines[2:]):
            prefix = f"m-mf-out-{i}-"
            if not ln.startswith(prefix):
                raise ProtocolError(self._context(f"expected '{prefix}<hex>' from 'mf-run%', got {ln!r}"))
            try:
                outputs.append(bytes.fromhex(ln[len(prefix) :]))
            except ValueError:
                raise ProtocolError(self._context(f"bad hex in {ln[:60]!r}")) from None
        if out_crc is not None and f"{zlib.crc32(b''.join(outputs)):08x}" != out_crc:
            raise LinkError(
                f"link error: checksum mismatch on the outputs of input {self.input_index}: the "
                f"device sent CRC-32 {out_crc}, the host received outputs with CRC-32 "
                f"{zlib.crc32(b''.join(outputs)):08x}; check the cable/baud (on {self.transport.name})",
                "a bad byte on the serial link, not a wrong result: check the cable, the baud rate "
                "and the USB hub, then run again")
        return RunResult(outputs, us, count)

    def exit(self) -> None:
        """Ends the firmware (``mf-exit%``); no reply is expected."""
        self.transport.send("mf-exit%")

    def _expect_count(self, cmd: str, n: int, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        lines = self.command(cmd, timeout)
        if len(lines) != n:
            raise ProtocolError(
                self._context(f"'{cmd}%' should reply {n} line(s) before m-ready, got {lines}"))
        return lines


def _floats(line: str) -> list[float]:
    body = _bracketed(line, "m-results-[")
    try:
        return [float(v) for v in body.split(",")] if body else []
    except ValueError:
        raise ProtocolError(f"non-numeric value in {line!r}") from None
