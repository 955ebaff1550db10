"""The real-board path (pytest-embedded's serial service, pyserial) against the emulator firmware,
whose UART QEMU puts on a pseudo-terminal: bit-exact runs, line noise, a device that never answers.

``mf_serial`` comes from the microforge plugin and runs on emulator envs only; a real board
(``--port=ENV=PORT``, ``--mf-port ENV=PORT``, or found by its USB VID:PID) goes through this path
in every test anyway.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from microforge.device.protocol import DeviceClient, DeviceTimeout
from microforge.device.reference import Reference, to_bytes


def test_serial_path_is_bit_exact(mf_serial: Callable[..., DeviceClient], mf_reference: Reference,
                                  mf_seed: int) -> None:
    device = mf_serial()
    device.sync()  # the boot banner went out before the port opened, as on a board
    for inputs in mf_reference.random_inputs(mf_seed, 3):
        device.load(to_bytes(inputs))
        first, again = device.run(), device.run()
        assert first.outputs == [a.tobytes() for a in mf_reference.run(inputs)]
        assert first.count == again.count  # instructions per inference: exact and repeatable
    device.exit()


def test_serial_line_noise_is_survived(mf_serial: Callable[..., DeviceClient]) -> None:
    device = mf_serial()
    device.transport.send("\x00\x7fnoise without a terminator ")  # spoils the next command
    device.sync()  # retries name% until a clean reply
    assert device.command("db 0g", check=False) in (["e-not-loaded"], ["e-bad-hex"])
    assert device.name() == "microforge"
    device.exit()


def test_serial_no_answer_times_out_clearly(mf_serial: Callable[..., DeviceClient]) -> None:
    device = mf_serial(paused=True)  # the port opens, the CPU never runs
    t0 = time.monotonic()
    with pytest.raises(DeviceTimeout) as err:
        device.command("profile", timeout=1.0)
    assert time.monotonic() - t0 < 3.0
    assert device.transport.name in str(err.value) and "'profile%'" in str(err.value)
