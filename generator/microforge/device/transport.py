"""Line transports for ``microforge.device.protocol.DeviceClient``: a child process and a serial port.

A reader thread does blocking reads (no busy polling), splits the bytes into lines for the client
and hands every chunk to an optional ``sink`` (the pytest-embedded message queue, so the bytes
also land in ``dut.log``). End of stream is remembered: once the firmware is gone every
``read_line`` raises ``EOFError`` at once instead of waiting out its timeout.
"""

from __future__ import annotations

import array
import fcntl
import os
import queue
import signal
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from microforge.errors import ToolError

Sink = Callable[[bytes], None]
_EOF = object()


class _LineQueue:
    """Bytes in, complete lines out; remembers end of stream."""

    def __init__(self, sink: Sink | None) -> None:
        self._q: queue.Queue[object] = queue.Queue()
        self._partial = b""
        self._sink = sink
        self.closed = False

    def feed(self, data: bytes) -> None:
        if self._sink is not None:
            try:
                self._sink(data)
            except (OSError, EOFError, ValueError):  # a closed log queue must not stop reading
                self._sink = None
        self._partial += data
        *lines, self._partial = self._partial.split(b"\n")
        for line in lines:
            self._q.put(line.decode("ascii", errors="replace"))

    def partial(self) -> str:
        """Bytes received after the last newline (a line still in flight, or a cut-off one)."""
        return self._partial.decode("ascii", errors="replace")

    def close(self) -> None:
        if self._partial:
            self._q.put(self._partial.decode("ascii", errors="replace"))
            self._partial = b""
        self._q.put(_EOF)

    def get(self, timeout: float) -> str:
        if self.closed:
            raise EOFError
        try:
            item = self._q.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if item is _EOF:
            self.closed = True
            raise EOFError
        return str(item)


class ProcessTransport:
    """A firmware running as a child process (native build, or QEMU with the UART on stdio)."""

    def __init__(self, cmd: Sequence[str], name: str, cwd: Path | None = None,
                 sink: Sink | None = None) -> None:
        self.name = name
        self.cmd = list(cmd)
        self._lines = _LineQueue(sink)
        self.proc = subprocess.Popen(self.cmd, cwd=cwd, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
        self._thread = threading.Thread(target=self._pump, name=f"mf-read-{name}", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 4096)  # blocks until bytes or EOF
            except OSError:
                data = b""
            if not data:
                break
            self._lines.feed(data)
        self._lines.close()

    def send(self, text: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(text.encode("ascii"))
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the reader reports the exit as EOF on the next read_line

    def read_line(self, timeout: float) -> str:
        return self._lines.get(timeout)

    def partial_line(self) -> str:
        return self._lines.partial()

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def exit_detail(self) -> str:
        """How the process ended ("exit status 3", "killed by SIGSEGV"), for error messages."""
        try:
            code = self.proc.wait(1.0)
        except subprocess.TimeoutExpired:
            return "still running, output closed"
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit status {code}"

    def close(self, timeout: float = 5.0) -> int | None:
        """Closes stdin (the host port sees EOF and exits), then terminates if still alive."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(2.0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._thread.join(2.0)
        return self.proc.returncode


class _QueueTee:
    """Stands in for pytest-embedded's message queue: what the stock serial reader ``put``s
    becomes lines for the client (and still reaches the real queue through the line queue's sink)."""

    def __init__(self, lines: _LineQueue) -> None:
        self._lines = lines

    def put(self, data: bytes, **_: object) -> None:
        if data:  # the stock reader puts an empty chunk on every idle poll
            self._lines.feed(data)


def _socket_port(url: str, baud: int) -> object:
    """pyserial's ``socket://`` port, opened, with an ``in_waiting`` that counts the bytes.

    pyserial reports 1 for any readable socket and the stock reader reads ``in_waiting`` bytes per
    50 ms poll: unchanged, a socket URL would deliver 20 bytes a second.
    """
    from serial.urlhandler.protocol_socket import Serial as SocketPort

    class CountingSocketPort(SocketPort):
        @property
        def in_waiting(self) -> int:
            if not super().in_waiting:
                return 0
            count = array.array("i", [0])
            fcntl.ioctl(self._socket, termios.FIONREAD, count)
            return max(1, count[0])  # readable with 0 bytes: the peer closed, let read() say so

    port = CountingSocketPort(None, baudrate=baud)
    port.port = url
    port.open()
    return port


class SerialTransport:
    """A board on a serial port, through pytest-embedded's stock ``serial`` service.

    ``pytest_embedded_serial.serial.Serial`` opens the port (pyserial: a device path, a pty, or any
    URL such as ``socket://localhost:4321`` for QEMU's ``-serial tcp::4321,server=on,wait=off``)
    and its reader thread forwards what arrives; we take those chunks as lines. Opening is retried
    for ``open_timeout`` seconds (a board re-enumerating after a flash, an emulator still
    starting). The stock reader logs a lost port and quietly tries to reopen it for several
    seconds; we watch the port instead and end the stream as soon as it is closed, its reader has
    stopped, or its device node is gone: the next ``read_line`` raises ``EOFError``.
    """

    POLL = 0.1  # how often a waiting read_line looks at the port's health

    def __init__(self, port: str, baud: int = 115200, sink: Sink | None = None,
                 open_timeout: float = 5.0, reopenable: bool = False) -> None:
        """reopenable: a real board's port, which ``reopen()`` may open again after the board reset
        (an emulator's pty ends with its process)."""
        import serial as pyserial
        from pytest_embedded_serial.serial import Serial

        self.name = port
        self._baud, self._sink, self.reopenable = baud, sink, reopenable
        self._lines = _LineQueue(sink)
        self.gone = ""
        self._ended = False
        deadline = time.monotonic() + open_timeout
        delay = 0.05
        while True:
            try:
                device = _socket_port(port, baud) if port.startswith("socket://") else port
                self.serial = Serial(_QueueTee(self._lines), port=device, baud=baud)  # type: ignore[arg-type]
                break
            except (OSError, ValueError, pyserial.SerialException) as exc:
                if time.monotonic() + delay > deadline:
                    raise ToolError(f"cannot open serial port {port} within {open_timeout:g} s: {exc}",
                                    hint="check the port name (--port=...), the cable, and that no "
                                         "other program (a serial monitor) holds the port") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def _lost(self) -> str:
        """Why the port is unusable, or "" while it is fine."""
        if not self.serial.proc.is_open:
            return "port lost: it closed after a read error"
        reader = getattr(self.serial, "_redirect_thread", None)
        if reader is not None and not reader.is_alive():
            return "port lost: the serial reader stopped"
        if self.name.startswith("/dev/") and not os.path.exists(self.name):
            return f"port lost: {self.name} disappeared (unplugged?)"
        return ""

    def send(self, text: str) -> None:
        self.send_bytes(text.encode("ascii"))

    def send_bytes(self, data: bytes) -> None:
        import serial as pyserial

        try:
            self.serial.proc.write(data)
            self.serial.proc.flush()  # tcdrain: a pty whose other end closed raises termios.error
        except (OSError, TypeError, AttributeError, pyserial.SerialException, termios.error) as exc:
            self.gone = self.gone or f"port lost: {exc}"  # reported as EOF by the next read_line

    def read_line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            if self.gone and not self._ended:
                self._ended = True
                self._lines.close()  # lines already received are still read first
            try:
                return self._lines.get(min(self.POLL, max(deadline - time.monotonic(), 0.0)))
            except TimeoutError:
                if time.monotonic() >= deadline:
                    raise
            self.gone = self.gone or self._lost()

    def partial_line(self) -> str:
        return self._lines.partial()

    def exit_detail(self) -> str:
        return self.gone or "the port closed"

    def reopen(self, timeout: float) -> SerialTransport:
        """This port opened again, within ``timeout`` seconds: a board that reset re-enumerates
        (USB CDC) under the same name once this end lets it go. Raises ToolError when it does not
        come back, or at once for a port that is not ``reopenable``."""
        if not self.reopenable:
            raise ToolError(f"{self.name} is not a board's port: not reopened")
        self.close(timeout=0.5)
        return SerialTransport(self.name, self._baud, self._sink, open_timeout=timeout, reopenable=True)

    def close(self, timeout: float = 2.0) -> None:
        """The stock close; it waits for its reader, which may sit in ~9 s of reconnect attempts
        on a lost port: that wait is left to a daemon thread after ``timeout``."""
        closer = threading.Thread(target=self.serial.close, name=f"mf-close-{self.name}", daemon=True)
        closer.start()
        closer.join(timeout)
