"""The fit check knows where each board's framework puts things (issue 16, point 4): read-only data
and code that a linker script copies to RAM (Teensy 4.x: .rodata to DTCM, .text to ITCM) count
against RAM, and a main stack the framework fixes (ArduinoCore-mbed: 32 KB) is a limit of its own."""

from __future__ import annotations

import dataclasses

from microforge.boards import all_boards
from microforge.lower.lowering import lower_with
from microforge.model import read_model
from microforge.project.budget import estimate, format_budget
from support import EXAMPLES

BASE = all_boards()["qemu-m4"]


def test_read_only_data_in_ram_counts_the_model_and_code_against_ram() -> None:
    model = lower_with(read_model(EXAMPLES / "sine_int8.tflite"), wide=False)
    plain = estimate(model, BASE)
    copied = estimate(model, dataclasses.replace(BASE, code_in="ram", rodata_in="ram"))
    assert copied.flash_bytes == plain.flash_bytes  # the load image still holds everything
    assert copied.ram_bytes == plain.ram_bytes + plain.model_bytes + plain.code_bytes
    assert "code and plan tables" in format_budget(copied) and "model" in copied.in_ram
    tight = dataclasses.replace(BASE, rodata_in="ram", ram_bytes=plain.ram_bytes + plain.model_bytes)
    assert estimate(model, tight).fits is False  # the code no longer fits beside the model


def test_a_framework_main_stack_is_its_own_limit() -> None:
    model = lower_with(read_model(EXAMPLES / "sine_int8.tflite"), wide=False)
    plain = estimate(model, BASE)
    mbed = estimate(model, dataclasses.replace(BASE, main_stack_bytes=32 * 1024))
    assert mbed.ram_bytes == plain.ram_bytes - plain.stack_bytes  # inside the framework's own RAM use
    assert mbed.fits and mbed.margins()["stack"] == 32 * 1024 - mbed.stack_bytes
    small = estimate(model, dataclasses.replace(BASE, main_stack_bytes=plain.stack_bytes - 1))
    assert not small.fits and "stack" in format_budget(small)
