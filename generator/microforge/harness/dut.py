"""The started firmware as a pytest-embedded ``Dut``.

The DUT reuses pytest-embedded's plumbing: the bytes the firmware prints go to its message
queue, so they land in ``dut.log`` and ``dut.expect(...)`` works as usual. The protocol client
reads the same bytes from the transport's own line queue (microforge.device.transport).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_embedded.dut import Dut

from microforge.device.protocol import DeviceClient
from microforge.device.runner import expected_build
from microforge.device.transport import ProcessTransport, SerialTransport


class MfDut(Dut):
    """A pytest-embedded Dut whose ``write()`` reaches the firmware and which owns the client.

    ``dut.expect(...)`` matches on dut.log as usual. ``write()`` bypasses ``client``: the reply it
    provokes stays queued for the client, so do not mix both within one exchange. The client
    expects the build hash of the project (``app.app_path``): booting a firmware built from
    another model or project raises ``BuildMismatch``.
    """

    def __init__(self, transport: ProcessTransport | SerialTransport, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transport = transport
        app_path = getattr(self.app, "app_path", None)
        self.client = DeviceClient(transport,
                                   expected_build=expected_build(Path(app_path)) if app_path else None)

    def write(self, s: str | bytes) -> None:
        self.transport.send(s.decode("ascii") if isinstance(s, bytes) else s)

    def close(self) -> None:
        self.transport.close()
        super().close()
