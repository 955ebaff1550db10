"""A stand-in device speaking the microforge protocol, for testing the host side.

Use in memory (``FakeTransport(FakeDevice(...))``) or as a child process
(``python fake_device.py [--die-on CMD] [--silent-on CMD]``) on stdin/stdout.
The "model" has one 4-byte int8 input and one 4-byte output: the input bytes reversed, xor 0xff.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Callable

INPUT_BYTES = 4
BUILD = "0123456789abcdef"  # the build hash the fake firmware reports in mf-info


def model(data: bytes) -> bytes:
    return bytes(b ^ 0xFF for b in reversed(data))


class FakeDevice:
    def __init__(self, noise: bool = False, error_on: str = "", silent_on: str = "",
                 die_on: str = "", build: str = BUILD, corrupt_input: int = -1,
                 corrupt_output: int = -1, fault_on: str = "") -> None:
        """corrupt_input / corrupt_output: flip one bit of that byte of the next db data received /
        output sent (once), as a bad serial byte would; fault_on: report a HardFault and halt."""
        self.noise, self.error_on, self.silent_on, self.die_on = noise, error_on, silent_on, die_on
        self.build, self.corrupt_input, self.corrupt_output = build, corrupt_input, corrupt_output
        self.fault_on = fault_on
        self.buf = bytearray()
        self.expect = -1
        self.line = ""
        self.dead = False
        self.out: list[str] = []

    def boot(self) -> None:
        if self.noise:
            self.out.append("bootloader v1.2 \x00garbage")
        self.out += ["m-timestamp-mode-performance", "m-init-done", "m-ready"]

    def feed(self, text: str) -> None:
        for ch in text:
            if ch == "%":
                self.handle(self.line.strip("\r\n"))
                self.line = ""
            else:
                self.line += ch

    def reply(self, *lines: str) -> None:
        if self.noise:
            self.out.append("stray debug print")
        self.out += [*lines, "m-ready"]

    def handle(self, cmd: str) -> None:  # noqa: PLR0911 - a dispatcher
        if self.dead or (self.silent_on and cmd.startswith(self.silent_on)):
            return
        if self.die_on and cmd.startswith(self.die_on):
            self.dead = True
            return
        if self.fault_on and cmd.startswith(self.fault_on):
            self.out.append("m-mf-fault-hard-pc-000012a4-lr-00000f01")
            self.dead = True
            return
        if self.error_on and cmd.startswith(self.error_on):
            return self.reply("e-invoke-kernel-error")
        if cmd == "name":
            return self.reply("m-name-dut-[microforge]")
        if cmd == "profile":
            return self.reply("m-profile-[microforge 0.1.0]", "m-model-[fake]")
        if cmd == "timestamp":
            return self.reply("m-lap-us-42")
        if cmd.startswith("db load "):
            self.expect, self.buf = int(cmd[8:]), bytearray()
            return self.reply(f"m-[Expecting {self.expect} bytes]")
        if cmd == "db print":
            return self.reply("m-buffer-" + self.buf.hex())
        if cmd.startswith("db "):
            try:
                data = bytearray.fromhex(cmd[3:])
            except ValueError:
                return self.reply("e-bad-hex")
            at = self.corrupt_input - len(self.buf)
            if 0 <= at < len(data):
                data[at] ^= 0x10
                self.corrupt_input = -1
            self.buf += data
            return self.reply(*(["m-load-done"] if len(self.buf) == self.expect else []))
        if cmd == "mf-info":
            return self.reply("m-mf-version-0.1.0", *([f"m-mf-build-{self.build}"] if self.build else []),
                              "m-mf-arena-256", "m-mf-input-0-int8-1x4-4", "m-mf-output-0-int8-1x4-4",
                              "m-mf-counter-none")
        if cmd == "mf-run" or cmd.startswith("mf-run "):
            if len(self.buf) != INPUT_BYTES:
                return self.reply("e-not-loaded")
            checked = cmd != "mf-run"
            if checked and cmd[7:] != f"{zlib.crc32(self.buf):08x}":
                return self.reply(f"e-mf-crc-mismatch-{zlib.crc32(self.buf):08x}")
            out = bytearray(model(self.buf))
            crc = [f"m-mf-out-crc-{zlib.crc32(out):08x}"] if checked else []
            if 0 <= self.corrupt_output < len(out):
                out[self.corrupt_output] ^= 0x01
                self.corrupt_output = -1
            return self.reply("m-mf-us-7", "m-mf-count-0", "m-mf-out-0-" + out.hex(), *crc)
        if cmd.startswith("infer "):
            n, w = (int(v) for v in cmd.split()[1:3])
            return self.reply(f"m-warmup-start-{w}", "m-warmup-done", f"m-infer-start-{n}",
                              "m-lap-us-100", f"m-lap-us-{100 + 7 * n}", "m-infer-done",
                              "m-results-[0.500000,-1.250000]")
        if cmd == "mf-exit":
            self.dead = True
            return None
        return self.reply("e-unknown-command")


class FakeTransport:
    """In-memory transport: the device answers synchronously; lines end in \\r\\n."""

    name = "fake:memory"

    def __init__(self, device: FakeDevice) -> None:
        self.device = device
        self.sent: list[str] = []
        device.boot()

    def send(self, text: str) -> None:
        self.sent.append(text)
        self.device.feed(text)

    def read_line(self, timeout: float) -> str:
        if self.device.out:
            return self.device.out.pop(0) + "\r\n"
        if self.device.dead:
            raise EOFError
        raise TimeoutError


def serve(device: FakeDevice, read: Callable[[], str], write: Callable[[str], None]) -> None:
    device.boot()
    while not device.dead:
        for line in device.out:
            write(line + "\r\n")
        device.out.clear()
        ch = read()
        if not ch:
            return
        device.feed(ch)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--die-on", default="")
    ap.add_argument("--silent-on", default="")
    args = ap.parse_args()

    def write(s: str) -> None:
        sys.stdout.write(s)
        sys.stdout.flush()

    serve(FakeDevice(die_on=args.die_on, silent_on=args.silent_on), lambda: sys.stdin.read(1), write)
    sys.exit(3 if args.die_on else 0)


if __name__ == "__main__":
    main()
