"""`microforge verify`: build one env of a generated project, run it, compare with TFLM.

The same pieces the pytest plugin uses (build, start, DeviceClient, Reference), driven without
pytest so the CLI and the README's demo can show a verified result.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import MicroforgeError, ToolError
from .harness.dut import build, start
from .harness.project import model_path, read_envs
from .protocol import DeviceClient
from .reference import Reference, to_bytes

BOOT_TIMEOUT = 30.0


@dataclass
class InputResult:
    index: int
    exact: bool
    us: int
    count: int
    outputs: list[str]        # device output bytes, hex
    reference: list[str]      # TFLM output bytes, hex
    mismatched_elements: int


@dataclass
class VerifyReport:
    project: str
    env: str
    model: str
    seed: int
    counter: str = "none"
    arena_bytes: int = 0
    results: list[InputResult] = field(default_factory=list)

    @property
    def exact(self) -> int:
        return sum(r.exact for r in self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.exact == len(self.results)

    def latency(self) -> dict[str, float]:
        us = [r.us for r in self.results] or [0]
        counts = [r.count for r in self.results] or [0]
        return {"us_median": statistics.median(us), "us_min": min(us), "us_max": max(us),
                "count_median": statistics.median(counts)}

    def as_dict(self) -> dict[str, object]:
        return {
            "project": self.project, "env": self.env, "model": self.model, "seed": self.seed,
            "inputs": len(self.results), "bit_exact": self.exact, "ok": self.ok,
            "counter": self.counter, "arena_bytes": self.arena_bytes, "latency": self.latency(),
            "results": [r.__dict__ for r in self.results],
        }


def _mismatches(got: list[bytes], want: list[np.ndarray]) -> int:
    n = 0
    for g, w in zip(got, want, strict=False):
        arr = np.frombuffer(g, dtype=w.dtype) if len(g) == w.nbytes else None
        n += w.size if arr is None else int(np.count_nonzero(arr != w.ravel()))
    return n + sum(w.size for w in want[len(got):])


def _inputs(ref: Reference, seed: int, count: int, npz: Path | None) -> Iterator[list[np.ndarray]]:
    if npz is None:
        yield from ref.random_inputs(seed, count)
        return
    with np.load(npz) as data:
        keys = sorted(data.files)
        for key in keys[:count]:
            yield [data[key]]


def verify(project: Path, env: str, count: int = 100, seed: int = 1234, inputs: Path | None = None,
           port: str | None = None, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
    project = project.resolve()
    specs = {s.name: s for s in read_envs(project)}
    if env not in specs:
        raise MicroforgeError(f"{project} has no env '{env}'",
                              f"envs in its platformio.ini: {', '.join(specs) or 'none'}")
    spec = specs[env]
    reason = spec.skip_reason(port)
    if reason:
        raise ToolError(reason)
    ref = Reference(model_path(project))
    build_dir = build(project, env)
    log = open(project / ".pio" / f"mf-verify-{env}.log", "wb")  # noqa: SIM115 - closed below
    transport = start(spec, build_dir, port, 115200, sink=log.write, project=project)
    report = VerifyReport(str(project), env, model_path(project).name, seed)
    try:
        client = DeviceClient(transport)
        if spec.kind == "hardware":
            client.sync(BOOT_TIMEOUT)
        else:
            client.wait_boot(BOOT_TIMEOUT)
        info = client.info()
        report.counter, report.arena_bytes = info.counter, info.arena_bytes
        for k, arrays in enumerate(_inputs(ref, seed, count, inputs)):
            client.load(to_bytes(arrays))
            run = client.run()
            want = [np.ascontiguousarray(a) for a in ref.run(arrays)]
            want_bytes = [a.tobytes() for a in want]
            report.results.append(InputResult(
                k, run.outputs == want_bytes, run.us, run.count,
                [o.hex() for o in run.outputs], [w.hex() for w in want_bytes],
                _mismatches(run.outputs, want)))
            if progress:
                progress(k + 1, count)
        client.exit()
    finally:
        transport.close()
        log.close()
    return report


def format_report(r: VerifyReport) -> str:
    lat = r.latency()
    unit = {"instructions": "instructions", "cycles": "cycles"}.get(r.counter)
    lines = [
        f"{r.model} on {r.env}: {r.exact}/{len(r.results)} inputs bit-exact with TFLM (seed {r.seed})",
        f"  latency  median {lat['us_median']:.0f} us (min {lat['us_min']:.0f}, max {lat['us_max']:.0f})",
    ]
    if unit:
        lines.append(f"  {unit} per inference (median): {lat['count_median']:.0f}")
    lines.append(f"  arena    {r.arena_bytes:,} B")
    for bad in [x for x in r.results if not x.exact][:5]:
        lines.append(f"  MISMATCH input #{bad.index}: {bad.mismatched_elements} element(s); "
                     f"device {' '.join(bad.outputs)[:48]} reference {' '.join(bad.reference)[:48]}")
    lines.append("VERIFIED: bit-exact" if r.ok else "FAILED: outputs differ from TFLM")
    return "\n".join(lines)
