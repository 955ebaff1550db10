"""Results from a board must be trustworthy (fake device): the build hash, checksummed transfers,
fault reports."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from microforge.device import verify as verify_mod
from microforge.device.protocol import BuildMismatch, DeviceClient, DeviceFault, LinkError
from microforge.project import buildhash
from support import EXAMPLES

from .fake_device import BUILD, FakeDevice, FakeTransport, model


def client(expected: str | None = None, **kw: object) -> tuple[DeviceClient, FakeTransport]:
    transport = FakeTransport(FakeDevice(**kw))  # type: ignore[arg-type]
    return DeviceClient(transport, chunk_size=3, expected_build=expected), transport


def test_build_hash_is_reported_and_checked() -> None:
    c, _ = client(expected=BUILD)
    c.wait_boot()
    assert c.info().build == BUILD
    c, _ = client(expected="feedfacefeedface")
    with pytest.raises(BuildMismatch) as err:
        c.wait_boot()
    text = str(err.value)
    assert BUILD in text and "feedfacefeedface" in text and "another model or project" in text
    assert "rebuild and flash this project" in err.value.hint


def test_sync_refuses_a_stale_flash_and_an_old_firmware() -> None:
    c, _ = client(expected="feedfacefeedface")
    with pytest.raises(BuildMismatch):
        c.sync()
    c, _ = client(expected=BUILD, build="")  # a firmware from before the build hash
    with pytest.raises(BuildMismatch, match="no build hash"):
        c.sync()


def test_a_bad_input_byte_is_a_link_error_not_a_wrong_result() -> None:
    c, t = client(corrupt_input=2)
    c.wait_boot()
    data = bytes([1, 2, 3, 4])
    c.load(data)
    with pytest.raises(LinkError) as err:
        c.run()
    assert str(err.value).startswith("link error: checksum mismatch on input 0")
    assert "check the cable/baud" in str(err.value)
    assert t.sent[-1] == f"mf-run {zlib.crc32(data):08x}%"
    c.load(data)  # sent again: the link is fine now
    assert c.run().outputs == [model(data)]


def test_a_bad_output_byte_is_a_link_error() -> None:
    c, _ = client(corrupt_output=1)
    c.wait_boot()
    c.load(b"\x01\x02\x03\x04", index=7)
    with pytest.raises(LinkError, match="checksum mismatch on the outputs of input 7"):
        c.run()


def test_plain_mf_run_without_a_load_still_works() -> None:
    c, t = client()
    c.wait_boot()
    c.command("db load 4")
    c.command("db 01020304")
    assert c.run().outputs == [model(b"\x01\x02\x03\x04")]
    assert t.sent[-1] == "mf-run%"


def test_fault_line_names_the_fault_and_pc() -> None:
    c, _ = client(fault_on="mf-run")
    c.wait_boot()
    c.load(b"\0\0\0\0")
    with pytest.raises(DeviceFault) as err:
        c.run()
    assert (err.value.kind, err.value.pc, err.value.lr) == ("hard", 0x12A4, 0xF01)
    assert "HardFault at pc 0x000012a4" in str(err.value) and "'mf-run" in str(err.value)


def test_verify_run_one_repeats_a_link_error_and_notes_it() -> None:
    c, _ = client(corrupt_input=0)
    c.wait_boot()
    notes: list[str] = []
    outputs, *_, attempts = verify_mod._run_one(c, b"\x05\x06\x07\x08", 3, notes)
    assert outputs == [model(b"\x05\x06\x07\x08")] and attempts == 1
    assert len(notes) == 1 and notes[0].startswith("link error: checksum mismatch on input 3")


def test_build_hash_definition(tmp_path: Path) -> None:
    for name in buildhash.HASHED_SOURCES:
        (tmp_path / name).write_text(f"// {name}\n")
    value = buildhash.write_header(b"model", tmp_path)
    assert len(value) == 16 and f'"{value}"' in (tmp_path / buildhash.HEADER).read_text()
    (tmp_path / "model_plan.cpp").write_text("// another plan\n")
    assert buildhash.generated_hash(b"model", tmp_path) != value


def test_the_harness_dut_expects_its_projects_build(tmp_path: Path) -> None:
    """mf_dut's client carries the project's build hash: a board answering with another firmware's
    (a stale flash, a sibling board on the same VID:PID) fails at boot, before any comparison."""
    from microforge.harness.dut import MfDut
    from microforge.project.scaffold import generate
    from pytest_embedded.app import App

    project = generate(EXAMPLES / "sine_int8.tflite", ["host"], tmp_path / "proj")
    expected = buildhash.project_hash(project, project / "model" / "sine_int8.tflite")
    dut = MfDut(FakeTransport(FakeDevice()), pexpect_proc=None, msg_queue=None,
                app=App(app_path=str(project)), pexpect_logfile="", test_case_name="t", meta=None)
    assert dut.client.expected_build == expected
    with pytest.raises(BuildMismatch, match=f"reports build hash {BUILD}, this project's is {expected}"):
        dut.client.sync()


def test_a_foreign_firmware_is_named_before_its_init_failure() -> None:
    """Another project's firmware may fail init on this board: the mismatch is what to fix."""
    device = FakeDevice()
    device.boot = lambda: device.out.extend(  # type: ignore[method-assign]
        ["m-timestamp-mode-performance", "e-init-failed-arena-too-small-op-3", "m-ready"])
    c = DeviceClient(FakeTransport(device), expected_build="feedfacefeedface")
    with pytest.raises(BuildMismatch):
        c.wait_boot()
