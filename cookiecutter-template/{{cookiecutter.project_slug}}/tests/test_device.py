"""This project's firmware, on every runnable env, against the TFLM reference interpreter.

Fixtures come from the microforge pytest plugin (installed with microforge): ``mf_device`` is
a booted firmware speaking the serial protocol, ``mf_reference`` runs model/<model>.tflite in
TFLM's own Python interpreter.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

import numpy as np
from microforge.device.protocol import DeviceClient
from microforge.device.reference import Reference, to_bytes


def _describe(k: int, inputs: list[np.ndarray], got: list[bytes], want: list[bytes]) -> str:
    lines = [f"input #{k}: {to_bytes(inputs).hex()[:80]}"]
    for i, (g, w) in enumerate(zip(got, want, strict=False)):
        if g != w:
            diff = [j for j in range(min(len(g), len(w))) if g[j] != w[j]]
            lines.append(f"  output {i}: {len(diff)} byte(s) differ, first at {diff[:5]}; "
                         f"device {g.hex()[:64]} reference {w.hex()[:64]}")
    if len(got) != len(want):
        lines.append(f"  device gave {len(got)} outputs, reference {len(want)}")
    return "\n".join(lines)


def test_bit_exact(mf_device: DeviceClient, mf_reference: Reference, mf_count: int, mf_seed: int,
                   record_property: Callable[[str, object], None]) -> None:
    """Raw output bytes equal the reference's on seeded random inputs."""
    failures: list[str] = []
    us: list[int] = []
    counts: list[int] = []
    for k, inputs in enumerate(mf_reference.random_inputs(mf_seed, mf_count)):
        mf_device.load(to_bytes(inputs))
        result = mf_device.run()
        want = [np.ascontiguousarray(a).tobytes() for a in mf_reference.run(inputs)]
        if result.outputs != want:
            failures.append(_describe(k, inputs, result.outputs, want))
        us.append(result.us)
        counts.append(result.count)
    record_property("inputs", mf_count)
    record_property("latency_us_median", statistics.median(us))
    record_property("latency_us_max", max(us))
    record_property("counter_median", statistics.median(counts))
    assert not failures, (f"{len(failures)} of {mf_count} inputs differ (seed {mf_seed}):\n"
                          + "\n".join(failures[:5]))


def test_info_matches_the_model(mf_device: DeviceClient, mf_reference: Reference) -> None:
    info = mf_device.info()
    specs = mf_reference.input_specs()
    assert [(t.dtype, t.shape, t.nbytes) for t in info.inputs] == [
        (s.dtype.name, s.shape, s.nbytes) for s in specs]
    assert [(t.dtype, t.shape) for t in info.outputs] == [
        (s.dtype.name, s.shape) for s in mf_reference.output_specs()]
    assert info.arena_bytes > 0 and info.counter in ("cycles", "instructions", "none")


def test_eembc_protocol(mf_device: DeviceClient, mf_reference: Reference, mf_seed: int) -> None:
    """The MLPerf Tiny / EEMBC runner's commands: name, profile, db, infer, results."""
    assert mf_device.name() == "microforge"
    profile = mf_device.profile()
    assert profile.profile.startswith("microforge ") and profile.model
    (inputs,) = mf_reference.random_inputs(mf_seed, 1)
    data = to_bytes(inputs)
    mf_device.chunk_size = 31  # what the official runner sends per `db` command
    mf_device.load(data)
    assert mf_device.buffer() == data
    t0 = mf_device.timestamp()
    run = mf_device.infer(3, 1)
    assert t0 <= run.start_us <= run.end_us <= mf_device.timestamp()
    out = mf_reference.run(inputs)[0]
    spec = mf_reference.output_specs()[0]
    want = out.astype(np.float64).ravel()
    if spec.scale > 0:
        want = (want - spec.zero_point) * spec.scale
    assert np.allclose(run.results, want, rtol=1e-5, atol=2e-6)
    assert mf_device.results() == run.results


def test_garbage_is_rejected_and_the_device_stays_usable(mf_device: DeviceClient,
                                                         mf_reference: Reference) -> None:
    assert mf_device.command("results", check=False) == ["e-not-loaded"]  # nothing run yet
    assert mf_device.command("no-such-command", check=False) == ["e-unknown-command"]
    assert mf_device.command("\r\nname\r\n", check=False) == ["m-name-dut-[microforge]"]
    assert mf_device.command("x" * 2000, check=False) == ["e-overflow"]
    mf_device.command(f"db load {sum(s.nbytes for s in mf_reference.input_specs())}")
    assert mf_device.command("db 0g", check=False) == ["e-bad-hex"]
    assert mf_device.command("db 123", check=False) == ["e-bad-hex"]
    assert mf_device.command("mf-run", check=False) == ["e-not-loaded"]
    assert mf_device.name() == "microforge"
