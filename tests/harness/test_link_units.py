"""Link robustness and verify's input handling, without firmware: scripted transports and
a TCP stand-in for a serial device (pyserial's socket:// URL, the stock SerialTransport)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from microforge.errors import MicroforgeError
from microforge.harness.transport import SerialTransport
from microforge.protocol import DeviceClient, DeviceReset, DeviceTimeout
from microforge.reference import Reference, TensorSpec
from microforge.verify import classifier_outputs, read_inputs

from .fake_device import FakeDevice, FakeTransport


class Chatty:
    """A device that prints a noise line every 50 ms and never finishes a reply."""

    name = "chatty:0"

    def send(self, text: str) -> None:
        pass

    def read_line(self, timeout: float) -> str:
        time.sleep(min(timeout, 0.05))
        if timeout <= 0.05:
            raise TimeoutError
        return "debug: still here\r\n"


def test_timeout_bounds_the_whole_reply_not_each_line() -> None:
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout) as err:
        DeviceClient(Chatty()).command("name", timeout=0.6)
    assert time.monotonic() - t0 < 1.2
    assert "chatty:0" in str(err.value) and "'name%'" in str(err.value)


def test_boot_banner_inside_a_reply_is_a_reset() -> None:
    link = FakeTransport(FakeDevice())
    client = DeviceClient(link)
    client.wait_boot()
    link.device.out += ["m-timestamp-mode-performance", "m-init-done", "m-ready"]  # it rebooted
    with pytest.raises(DeviceReset):
        client.command("name")
    client.sync()  # reads the reply left over, then a clean name%
    assert client.name() == "microforge"


def _fake_serial_device(lines: list[bytes]) -> tuple[str, threading.Thread, socket.socket]:
    """A TCP server that sends ``lines`` (raw bytes) after the first byte it receives."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(64)
            for chunk in lines:
                conn.sendall(chunk)
                time.sleep(0.02)
            time.sleep(3)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"socket://127.0.0.1:{server.getsockname()[1]}", thread, server


def test_serial_garbled_and_partial_lines() -> None:
    url, _, server = _fake_serial_device([b"\xff\xfe\x00garb", b"led\r\n", b"m-name-dut-[micro",
                                          b"forge]\r\n", b"m-rea", b"dy\r\n", b"m-half-a-line"])
    link = SerialTransport(url, open_timeout=5)
    try:
        client = DeviceClient(link)
        assert client.name() == "microforge"  # noise skipped, split lines joined
        with pytest.raises(DeviceTimeout) as err:
            client.command("profile", timeout=0.5)
        assert "unfinished line" in str(err.value) and "m-half-a-line" in str(err.value)
    finally:
        link.close()
        server.close()


def test_serial_open_failure_names_the_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    t0 = time.monotonic()
    with pytest.raises(MicroforgeError) as err:
        SerialTransport(f"socket://127.0.0.1:{port}", open_timeout=0.5)
    assert time.monotonic() - t0 < 2.0 and str(port) in str(err.value)


SPEC = TensorSpec(0, "x", np.dtype(np.int8), (1, 4), 0.1, 0)


def test_inputs_npz_key_conventions(tmp_path: Path) -> None:
    a = np.arange(4, dtype=np.int8).reshape(1, 4)
    keyed = tmp_path / "k.npz"
    np.savez(keyed, in1_0=a + 1, in0_0=a, out0_0=a * 0)  # goldens' keys; out* ignored; order by k
    assert [s[0].tolist() for s in read_inputs(keyed, [SPEC])] == [a.tolist(), (a + 1).tolist()]
    plain = tmp_path / "p.npz"
    np.savez(plain, a, np.stack([a[0], a[0] * 2]))  # one sample, then a stack of two (batch 1)
    got = read_inputs(plain, [SPEC])
    assert len(got) == 3 and got[2][0].tolist() == (a * 2).tolist() and got[2][0].shape == (1, 4)
    bad = tmp_path / "b.npz"
    np.savez(bad, a.astype(np.float32))
    with pytest.raises(MicroforgeError, match="float32"):
        read_inputs(bad, [SPEC])


def test_classifier_outputs_from_the_reference(sine_int8: Path) -> None:
    assert classifier_outputs(Reference(sine_int8).output_specs()) == []  # (1, 1): a regressor
    assert classifier_outputs([TensorSpec(0, "p", np.dtype(np.int8), (1, 12), 0.1, 0),
                               TensorSpec(1, "q", np.dtype(np.int8), (1, 4, 4), 0.1, 0)]) == [0]


def test_real_board_found_by_usb_vid_pid(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from microforge.harness.project import EnvSpec, detect_port
    from serial.tools import list_ports

    ports = [SimpleNamespace(device="/dev/ttyACM1", vid=0x2341, pid=0x805A),
             SimpleNamespace(device="/dev/ttyUSB0", vid=0x0403, pid=0x6001)]
    monkeypatch.setattr(list_ports, "comports", lambda: ports)
    assert detect_port("2341:805A") == "/dev/ttyACM1"
    assert detect_port("2341:0001") is None and detect_port("not-an-id") is None
    board = EnvSpec("nano33ble", "hardware", usb="2341:805a")
    assert board.skip_reason(detect_port(board.usb)) is None
    assert "--port" in (board.skip_reason(None) or "")
