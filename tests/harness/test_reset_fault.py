"""A fault on a board that can only report it after the reset it causes (the Arduino port: USB CDC
cannot send from a fault handler, so the fault is kept in no-init RAM and printed at the next boot
as ``m-mf-reset-fault-...``): the harness says which fault ended the command instead of timing
out or reporting a lost port, on a USB board whose port vanishes and comes back (reopened) and on
a UART-bridged board whose port stays; a fault reported at an ordinary boot belongs to an earlier
run and does not fail the new one."""

from __future__ import annotations

import socket
import threading
from collections import deque

import pytest
from microforge.device.protocol import DeviceClient, DeviceFault, DeviceGone
from microforge.device.transport import SerialTransport

BANNER = ["m-timestamp-mode-performance", "m-init-done", "m-ready"]
FAULT = "m-mf-reset-fault-hard-pc-00001234-lr-00005678"


class Lines:
    """A transport replaying lines; EOF when they run out."""

    name = "fake"

    def __init__(self, lines: list[str]) -> None:
        self.lines = deque(lines)
        self.sent: list[str] = []

    def send(self, text: str) -> None:
        self.sent.append(text)

    def read_line(self, timeout: float) -> str:
        if not self.lines:
            raise EOFError
        return self.lines.popleft()


def test_a_fault_from_an_earlier_run_is_kept_not_raised() -> None:
    client = DeviceClient(Lines(["m-mf-reset-fault-usage-pc-08000100", *BANNER]))
    client.wait_boot(1.0)
    fault = client.previous_fault
    assert fault is not None and fault.kind == "usage" and fault.pc == 0x08000100 and fault.lr is None
    assert "UsageFault at pc 0x08000100 during an earlier run; the board reset" in str(fault)
    assert DeviceClient(Lines(BANNER)).previous_fault is None


def test_a_uart_board_that_resets_mid_command_reports_the_fault() -> None:
    """The port stays (a USB-UART bridge): the new boot's banner arrives inside the reply."""
    client = DeviceClient(Lines([*BANNER, "m-warmup-start-0", FAULT, *BANNER]))
    client.wait_boot(1.0)
    with pytest.raises(DeviceFault) as err:
        client.command("infer 1 0", timeout=1.0)
    assert (err.value.kind, err.value.pc, err.value.lr) == ("hard", 0x1234, 0x5678)
    assert "HardFault at pc 0x00001234 (lr 0x00005678) during command 'infer 1 0%'" in str(err.value)
    assert "addr2line" in err.value.hint


def _board(banner_after_reset: list[str]) -> tuple[str, threading.Event]:
    """A USB board on socket://: answers ``name%``, drops the link on ``mf-run`` (the reset), and
    greets every later connection with ``banner_after_reset`` (the port back after re-enumeration)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    done = threading.Event()

    def serve() -> None:
        conn, _ = server.accept()
        buf = b""
        while b"mf-run%" not in buf:
            data = conn.recv(256)
            if not data:
                break
            buf += data
            if buf.endswith(b"name%"):
                conn.sendall(b"m-name-dut-[microforge]\r\nm-ready\r\n")
        conn.close()  # the board resets: its USB port goes away

        def greet(again: socket.socket) -> None:
            with again:
                again.sendall("".join(f"{ln}\r\n" for ln in banner_after_reset).encode())
                again.recv(64)  # hold it open until the client leaves

        # Every later connection is served at once and on its own: pytest-embedded's reader also
        # reconnects by itself after the loss, and that stale connection must not hold up ours.
        server.settimeout(60.0)
        try:
            while not done.is_set():
                threading.Thread(target=greet, args=(server.accept()[0],), daemon=True).start()
        except OSError:
            pass
        finally:
            server.close()

    threading.Thread(target=serve, daemon=True).start()
    return f"socket://127.0.0.1:{server.getsockname()[1]}", done


def test_a_usb_board_whose_port_comes_back_reports_the_fault() -> None:
    url, done = _board([FAULT, *BANNER])
    link = SerialTransport(url, open_timeout=5, reopenable=True)
    client = DeviceClient(link)
    try:
        assert client.command("name", timeout=3.0) == ["m-name-dut-[microforge]"]
        with pytest.raises(DeviceFault) as err:
            client.command("mf-run", timeout=20.0)
        assert (err.value.kind, err.value.pc, err.value.lr) == ("hard", 0x1234, 0x5678)
        assert "during command 'mf-run%'; the board reset and reported it when it restarted" in str(err.value)
    finally:
        done.set()
        client.transport.close()


def test_a_port_that_is_not_a_board_is_not_reopened() -> None:
    """An emulator's pty (not reopenable): the lost link is reported at once, as before."""
    url, done = _board([FAULT, *BANNER])
    link = SerialTransport(url, open_timeout=5)
    client = DeviceClient(link)
    try:
        client.command("name", timeout=3.0)
        with pytest.raises(DeviceGone, match="port lost"):
            client.command("mf-run", timeout=20.0)
    finally:
        done.set()
        client.transport.close()
