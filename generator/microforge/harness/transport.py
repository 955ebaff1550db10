"""Line transports for ``microforge.protocol.DeviceClient``: a child process and a serial port.

A reader thread does blocking reads (no busy polling), splits the bytes into lines for the client
and hands every chunk to an optional ``sink`` (the pytest-embedded message queue, so the bytes
also land in ``dut.log``). End of stream is remembered: once the firmware is gone every
``read_line`` raises ``EOFError`` at once instead of waiting out its timeout.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import ToolError

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


class SerialTransport:
    """A board on a serial port (pyserial); reads block with a short timeout.

    ``port`` is a device path (``/dev/ttyACM0``, a pty) or any pyserial URL
    (``socket://localhost:4321`` for QEMU's ``-serial tcp::4321,server=on,wait=off``). Opening is
    retried for ``open_timeout`` seconds (a board re-enumerating after a flash, an emulator still
    starting). A port that disappears ends the stream: the next ``read_line`` raises ``EOFError``.
    """

    def __init__(self, port: str, baud: int = 115200, sink: Sink | None = None,
                 open_timeout: float = 5.0) -> None:
        import serial  # pyserial, only needed for real boards

        self.name = port
        deadline = time.monotonic() + open_timeout
        delay = 0.05
        while True:
            try:
                self._serial = serial.serial_for_url(port, baudrate=baud, timeout=0.1)
                break
            except (OSError, ValueError, serial.SerialException) as exc:
                if time.monotonic() + delay > deadline:
                    raise ToolError(f"cannot open serial port {port} within {open_timeout:g} s: {exc}",
                                    hint="check the port name (--port=...), the cable, and that no "
                                         "other program (a serial monitor) holds the port") from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        self._serial.reset_input_buffer()
        self._lines = _LineQueue(sink)
        self._stop = threading.Event()
        self.gone = ""
        self._thread = threading.Thread(target=self._pump, name=f"mf-read-{port}", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        import serial

        while not self._stop.is_set():
            try:
                data = self._serial.read(max(1, self._serial.in_waiting))
            except (OSError, TypeError, AttributeError, serial.SerialException) as exc:
                self.gone = f"port lost: {exc}"  # unplugged, or the remote end closed
                break
            if data:
                self._lines.feed(data)
        self._lines.close()

    def send(self, text: str) -> None:
        import serial

        try:
            self._serial.write(text.encode("ascii"))
            self._serial.flush()
        except (OSError, TypeError, AttributeError, serial.SerialException) as exc:
            self.gone = f"port lost: {exc}"  # the reader reports EOF on the next read_line

    def read_line(self, timeout: float) -> str:
        return self._lines.get(timeout)

    def partial_line(self) -> str:
        return self._lines.partial()

    def exit_detail(self) -> str:
        return self.gone or "the port closed"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        self._serial.close()
