"""DeviceClient against a fake device: happy path, noise, errors, silence, death."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from microforge.device.protocol import DeviceClient, DeviceError, DeviceGone, DeviceTimeout, ProtocolError
from microforge.device.transport import ProcessTransport

from .fake_device import FakeDevice, FakeTransport, model

FAKE = Path(__file__).with_name("fake_device.py")


def client(**kw: object) -> tuple[DeviceClient, FakeTransport]:
    transport = FakeTransport(FakeDevice(**kw))  # type: ignore[arg-type]
    c = DeviceClient(transport, chunk_size=3)
    c.wait_boot()
    return c, transport


@pytest.mark.parametrize("noise", [False, True])
def test_round_trip(noise: bool) -> None:
    c, t = client(noise=noise)
    assert c.boot_lines == ["m-timestamp-mode-performance", "m-init-done"]
    assert c.name() == "microforge"
    assert c.profile() == ("microforge 0.1.0", "fake")
    assert c.timestamp() == 42
    info = c.info()
    assert (info.version, info.arena_bytes, info.counter) == ("0.1.0", 256, "none")
    assert info.inputs[0].shape == (1, 4) and info.input_bytes == 4
    data = bytes([1, 2, 0x80, 0xFF])
    c.load(data)
    assert t.sent[:3] == ["name%", "profile%", "timestamp%"]
    assert t.sent[4:7] == ["db load 4%", "db 010280%", "db ff%"]  # chunk_size=3
    assert c.buffer() == data
    result = c.run()
    assert result.outputs == [model(data)] and result.us == 7 and result.count == 0
    inf = c.infer(10, 2)
    assert (inf.start_us, inf.end_us, inf.results) == (100, 170, [0.5, -1.25])
    assert inf.us_per_run == 7
    c.exit()
    assert t.sent[-1] == "mf-exit%"


def test_error_reply_raises_and_device_stays_usable() -> None:
    c, _ = client(error_on="mf-run")
    c.load(b"\0\0\0\0")
    with pytest.raises(DeviceError, match=r"'mf-run%'.*e-invoke-kernel-error"):
        c.run()
    assert c.command("bogus", check=False) == ["e-unknown-command"]
    assert c.name() == "microforge"


def test_bad_hex_is_reported() -> None:
    c, _ = client()
    c.command("db load 4")
    with pytest.raises(DeviceError, match="e-bad-hex"):
        c.command("db zz")


def test_silent_device_times_out_naming_the_command() -> None:
    c, _ = client(silent_on="mf-info")
    with pytest.raises(DeviceTimeout) as err:
        c.command("mf-info", timeout=0.2)
    text = str(err.value)
    assert "'mf-info%'" in text and "fake:memory" in text and "m-ready" in text


def test_malformed_reply_is_a_protocol_error() -> None:
    c, t = client()
    t.device.handle = lambda cmd: t.device.reply("m-lap-us-notanumber")  # type: ignore[method-assign]
    with pytest.raises(ProtocolError, match="m-lap-us-notanumber"):
        c.timestamp()


def test_chunk_size_is_validated() -> None:
    with pytest.raises(ValueError, match="chunk_size"):
        DeviceClient(FakeTransport(FakeDevice()), chunk_size=0)


def _spawn(*args: str) -> tuple[DeviceClient, ProcessTransport]:
    t = ProcessTransport([sys.executable, str(FAKE), *args], name="fake:process")
    c = DeviceClient(t)
    c.wait_boot()
    return c, t


def test_process_transport_round_trip() -> None:
    c, t = _spawn()
    try:
        c.load(b"\x01\x02\x03\x04")
        assert c.run().outputs == [model(b"\x01\x02\x03\x04")]
        c.exit()
        assert t.close() == 0
    finally:
        t.close()


def test_dead_process_fails_fast() -> None:
    c, t = _spawn("--die-on", "mf-run")
    try:
        c.load(b"\0\0\0\0")
        start = time.monotonic()
        with pytest.raises(DeviceGone) as err:
            c.run(timeout=30)
        assert time.monotonic() - start < 5, "waited out the timeout instead of seeing the exit"
        assert "'mf-run " in str(err.value) and "fake:process" in str(err.value)
        assert "exit status 3" in str(err.value)
        with pytest.raises(DeviceGone):  # stays gone, no second wait
            c.name()
    finally:
        assert t.close() == 3


def test_silent_process_times_out() -> None:
    c, t = _spawn("--silent-on", "name")
    try:
        with pytest.raises(DeviceTimeout, match=r"'name%' on fake:process"):
            c.command("name", timeout=0.3)
    finally:
        t.close()


def test_sync_skips_a_late_boot_banner() -> None:
    transport = FakeTransport(FakeDevice(noise=True))  # banner still pending
    c = DeviceClient(transport)
    c.sync(timeout=0.2)
    assert c.boot_lines == ["m-timestamp-mode-performance", "m-init-done"]
    assert c.name() == "microforge"


def test_serial_transport_over_a_pty_missing_the_boot_banner() -> None:
    """A board whose boot banner went out before the port opened: sync() recovers.

    Until pyserial puts the pty in raw mode it echoes, so the fake also reads its own banner as
    line noise in front of the first command: sync() must retry past that e-unknown-command.
    """
    import os
    import threading

    from microforge.device.transport import SerialTransport

    from .fake_device import serve

    master, slave = os.openpty()
    device = FakeDevice()

    def read() -> str:
        try:
            return os.read(master, 1).decode()
        except OSError:
            return ""

    thread = threading.Thread(
        target=serve, args=(device, read, lambda s: os.write(master, s.encode())), daemon=True)
    thread.start()
    time.sleep(0.1)  # the banner is written before the port opens, and flushed on open
    seen: list[bytes] = []
    t = SerialTransport(os.ttyname(slave), sink=seen.append)
    try:
        c = DeviceClient(t)
        c.sync(timeout=2)
        c.load(b"\x10\x20\x30\x40")
        assert c.run().outputs == [model(b"\x10\x20\x30\x40")]
        assert b"m-load-done" in b"".join(seen)
        assert t.name == os.ttyname(slave)
    finally:
        t.close()
        os.close(slave)
        os.close(master)
