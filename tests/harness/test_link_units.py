"""Link robustness and verify's input handling, without firmware: scripted transports and
a stand-in serial device on a pseudo-terminal behind pytest-embedded's stock serial service."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from microforge.device.protocol import DeviceClient, DeviceGone, DeviceReset, DeviceTimeout
from microforge.device.reference import Reference, TensorSpec
from microforge.device.transport import SerialTransport
from microforge.device.verify import classifier_outputs, read_inputs
from microforge.errors import MicroforgeError

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


class FakeSerialDevice:
    """A serial device on a pseudo-terminal: sends ``chunks`` (raw bytes) after the first byte it
    receives. ``path`` is the device node a board's port would be; ``unplug()`` hangs it up."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.master, self._slave = os.openpty()
        self.path = os.ttyname(self._slave)
        self.thread = threading.Thread(target=self._serve, args=(chunks,), daemon=True)
        self.thread.start()

    def _serve(self, chunks: list[bytes]) -> None:
        try:
            os.read(self.master, 64)
            for chunk in chunks:
                os.write(self.master, chunk)
                time.sleep(0.02)
        except OSError:
            pass  # unplugged

    def unplug(self) -> None:
        os.close(self.master)
        self.master = -1

    def close(self) -> None:
        if self.master >= 0:
            self.unplug()
        os.close(self._slave)


def test_serial_is_pytest_embedded_stock_service() -> None:
    from pytest_embedded_serial.serial import Serial

    device = FakeSerialDevice([b"m-name-dut-[microforge]\r\nm-ready\r\n"])
    seen: list[bytes] = []
    link = SerialTransport(device.path, sink=seen.append)
    try:
        assert type(link.serial) is Serial  # the stock class, not a look-alike
        assert DeviceClient(link).name() == "microforge"
        assert b"m-name-dut-[microforge]" in b"".join(seen)  # the bytes also reach the DUT log
    finally:
        link.close()
        device.close()


def test_serial_garbled_and_partial_lines() -> None:
    device = FakeSerialDevice([b"\xff\xfe\x00garb", b"led\r\n", b"m-name-dut-[micro",
                               b"forge]\r\n", b"m-rea", b"dy\r\n", b"m-half-a-line"])
    link = SerialTransport(device.path, open_timeout=5)
    try:
        client = DeviceClient(link)
        assert client.name() == "microforge"  # noise skipped, split lines joined
        with pytest.raises(DeviceTimeout) as err:
            client.command("profile", timeout=0.5)
        assert "unfinished line" in str(err.value) and "m-half-a-line" in str(err.value)
    finally:
        link.close()
        device.close()


def test_serial_unplugged_mid_command_fails_clearly() -> None:
    device = FakeSerialDevice([b"m-name-dut-[microforge]\r\nm-ready\r\n"])
    link = SerialTransport(device.path, open_timeout=5)
    try:
        client = DeviceClient(link)
        assert client.name() == "microforge"
        device.unplug()
        t0 = time.monotonic()
        with pytest.raises(DeviceGone) as err:
            client.command("profile", timeout=20)
        assert time.monotonic() - t0 < 5.0  # not the command's timeout
        assert device.path in str(err.value) and "port lost" in str(err.value)
    finally:
        link.close()
        device.close()


def test_serial_socket_url_reads_whole_chunks_and_sees_the_peer_leave() -> None:
    """socket:// (QEMU's -serial tcp, ser2net): 5,000 bytes of noise before the reply arrive in
    one poll or a few, not one byte per 50 ms poll (that would take over four minutes)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        conn, _ = server.accept()
        conn.recv(64)
        conn.sendall(b"x" * 5000 + b"\r\nm-name-dut-[microforge]\r\nm-ready\r\n")
        conn.recv(64)
        conn.close()  # the peer leaves after the second command
        server.close()

    threading.Thread(target=serve, daemon=True).start()
    url = f"socket://127.0.0.1:{server.getsockname()[1]}"
    link = SerialTransport(url, open_timeout=5)
    try:
        client = DeviceClient(link)
        assert client.command("name", timeout=3.0) == ["m-name-dut-[microforge]"]
        with pytest.raises(DeviceGone) as err:
            client.command("profile", timeout=20)
        assert url in str(err.value) and "port lost" in str(err.value)
    finally:
        link.close()


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

    from microforge.device.envs import EnvSpec, detect_port
    from serial.tools import list_ports

    ports = [SimpleNamespace(device="/dev/ttyACM1", vid=0x2341, pid=0x805A),
             SimpleNamespace(device="/dev/ttyUSB0", vid=0x0403, pid=0x6001)]
    monkeypatch.setattr(list_ports, "comports", lambda: ports)
    assert detect_port("2341:805A") == "/dev/ttyACM1"
    assert detect_port("2341:0001") is None and detect_port("not-an-id") is None
    board = EnvSpec("nano33ble", "hardware", usb="2341:805a")
    assert board.skip_reason(detect_port(board.usb)) is None
    assert "--port" in (board.skip_reason(None) or "")
