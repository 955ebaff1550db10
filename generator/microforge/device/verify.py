"""`microforge verify`: build one env of a generated project, run it, compare with TFLM.

The same pieces the pytest plugin uses (build, start, DeviceClient, Reference), driven without
pytest so the CLI and the README's demo can show a verified result. Reporting (terminal, JSON,
JUnit XML, .npz) lives in ``verify_report``.

Inputs (``--inputs FILE.npz``), key convention:
  - ``in{k}_{i}``: sample ``k``, model input ``i`` (the shared goldens' and ``--save-outputs``'
    keys); other keys (``out{k}_{i}``, ``tflm{k}_{i}``) are ignored. Samples run in order of k.
  - otherwise every array (in file order, e.g. ``np.savez(f, a, b)``) is for a one-input model:
    either one sample of the input's shape or a stack of samples (shape ``(N, *input_shape)``,
    or ``(N, *input_shape[1:])`` when the input's batch dimension is 1).
  dtypes must match the model's inputs exactly (no silent casts).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microforge.device.envs import detect_port, model_path, read_envs
from microforge.device.protocol import DeviceClient, DeviceFault, DeviceGone, DeviceTimeout, LinkError, ProtocolError
from microforge.device.reference import LiteRtReference, Reference, TensorSpec, to_bytes
from microforge.device.runner import build, start
from microforge.errors import MicroforgeError, ToolError
from microforge.model import read_model
from microforge.project.buildhash import project_hash

BOOT_TIMEOUT = 30.0
RETRIES = 2  # per input, after a device reset or a garbled reply
_IN_KEY = re.compile(r"^in(\d+)_(\d+)$")


@dataclass
class InputResult:
    index: int
    exact: bool
    us: int
    count: int
    outputs: list[str]        # device output bytes, hex
    reference: list[str]      # TFLM output bytes, hex
    mismatched: list[int]     # per output: elements that differ from TFLM
    mismatch_at: list[list[int]]  # per output: the first differing element indices (flat)
    litert_exact: bool | None = None  # None: LiteRT unavailable
    litert_max_diff: float | None = None  # max |device - LiteRT| over all elements
    top1: list[int] | None = None         # device argmax per output (classifier outputs only)
    top1_reference: list[int] | None = None
    retries: int = 0
    link_errors: list[str] = field(default_factory=list)  # checksum mismatches, repeated away

    @property
    def mismatched_elements(self) -> int:
        return sum(self.mismatched)


@dataclass
class VerifyReport:
    project: str
    env: str
    model: str
    seed: int
    counter: str = "none"
    arena_bytes: int = 0
    litert: str = "not run"   # "ok" or why LiteRT could not run the model
    classifier_outputs: list[int] = field(default_factory=list)
    output_specs: list[TensorSpec] = field(default_factory=list)
    results: list[InputResult] = field(default_factory=list)
    samples: list[list[np.ndarray]] = field(default_factory=list, repr=False)  # the inputs sent
    previous_fault: str = ""  # a fault that ended an earlier run, reported by the board at boot

    @property
    def exact(self) -> int:
        return sum(r.exact for r in self.results)

    @property
    def ok(self) -> bool:
        return bool(self.results) and self.exact == len(self.results)

    @property
    def litert_exact(self) -> int | None:
        return None if self.litert != "ok" else sum(bool(r.litert_exact) for r in self.results)

    @property
    def top1_agree(self) -> int | None:
        if not self.classifier_outputs:
            return None
        return sum(r.top1 == r.top1_reference for r in self.results)

    def latency(self) -> dict[str, float]:
        us = [r.us for r in self.results] or [0]
        counts = [r.count for r in self.results] or [0]
        return {"us_median": float(np.median(us)), "us_min": min(us), "us_max": max(us),
                "count_median": float(np.median(counts)), "count_min": min(counts),
                "count_max": max(counts)}


def classifier_outputs(specs: list[TensorSpec]) -> list[int]:
    """Outputs that look like class scores: exactly one non-batch dimension > 1."""
    return [s.index for s in specs if len(s.shape) >= 1 and sum(d > 1 for d in s.shape[1:]) == 1]


def _diff(got: list[bytes], want: list[np.ndarray]) -> tuple[list[int], list[list[int]]]:
    counts, where = [], []
    for i, w in enumerate(want):
        g = got[i] if i < len(got) else b""
        if len(g) != w.nbytes:
            counts.append(w.size)
            where.append(list(range(min(w.size, 16))))
            continue
        size = w.dtype.itemsize  # compare bits, not values: a NaN equals the same NaN
        ours = np.frombuffer(g, dtype=np.uint8).reshape(-1, size)
        theirs = np.frombuffer(w.tobytes(), dtype=np.uint8).reshape(-1, size)
        bad = np.flatnonzero(np.any(ours != theirs, axis=1))
        counts.append(int(bad.size))
        where.append([int(j) for j in bad[:16]])
    return counts, where


def _as_arrays(got: list[bytes], specs: list[TensorSpec]) -> list[np.ndarray] | None:
    if len(got) != len(specs) or any(len(g) != s.nbytes for g, s in zip(got, specs, strict=True)):
        return None
    return [np.frombuffer(g, dtype=s.dtype).reshape(s.shape) for g, s in zip(got, specs, strict=True)]


def read_inputs(npz: Path, specs: list[TensorSpec]) -> list[list[np.ndarray]]:
    """The samples in ``npz`` (see the module docstring for the key convention)."""
    try:
        data = np.load(npz)
    except (OSError, ValueError) as exc:
        raise MicroforgeError(f"cannot read inputs from {npz}: {exc}") from None
    with data:
        keyed = {(int(m[1]), int(m[2])): data[k] for k in data.files if (m := _IN_KEY.match(k))}
        if keyed:
            samples = []
            for k in sorted({k for k, _ in keyed}):
                missing = [i for i in range(len(specs)) if (k, i) not in keyed]
                if missing:
                    raise MicroforgeError(f"{npz}: sample {k} lacks in{k}_{missing[0]}")
                samples.append([keyed[k, i] for i in range(len(specs))])
        else:
            if len(specs) != 1:
                raise MicroforgeError(f"{npz}: the model has {len(specs)} inputs: name the arrays "
                                      "in{k}_{i} (sample k, input i)")
            shape = specs[0].shape
            samples = []
            for key in data.files:
                arr = data[key]
                if arr.shape == shape:
                    samples.append([arr])
                elif arr.shape[1:] == shape or (shape[:1] == (1,) and arr.shape[1:] == shape[1:]):
                    samples += [[a.reshape(shape)] for a in arr]
                else:
                    raise MicroforgeError(f"{npz}: array '{key}' has shape {arr.shape}; the input "
                                          f"wants {shape} or a stack (N, ...) of it")
    for k, sample in enumerate(samples):
        for spec, arr in zip(specs, sample, strict=True):
            if arr.dtype != spec.dtype or arr.shape != spec.shape:
                raise MicroforgeError(f"{npz}: sample {k} input {spec.index} is {arr.dtype}"
                                      f"{list(arr.shape)}, the model wants {spec.dtype}{list(spec.shape)}")
    return samples


def _inputs(ref: Reference, seed: int, count: int, npz: Path | None) -> Iterator[list[np.ndarray]]:
    if npz is None:
        yield from ref.random_inputs(seed, count)
    else:
        yield from read_inputs(npz, ref.input_specs())[:count]


def _litert(model: Path) -> tuple[LiteRtReference | None, str]:
    try:
        return LiteRtReference(model), "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "LiteRT cannot run this model"
        first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        return None, f"unavailable: {first}"


def _run_one(client: DeviceClient, data: bytes, index: int | None = None,
             link_errors: list[str] | None = None) -> tuple[list[bytes], int, int, int]:
    """load + mf-run (both ways CRC-checked), resynchronizing after a device reset or a garbled
    reply; a checksum mismatch (a bad byte on the link) is repeated too and noted in
    ``link_errors``, and raised as a ``LinkError`` when it persists: never a wrong result."""
    for attempt in range(RETRIES + 1):
        try:
            client.load(data, index=index)
            run = client.run()
            return run.outputs, run.us, run.count, attempt
        except (DeviceGone, DeviceTimeout, DeviceFault):
            raise
        except LinkError as exc:
            if link_errors is not None:
                link_errors.append(str(exc))
            if attempt == RETRIES:
                raise
        except ProtocolError:
            if attempt == RETRIES:
                raise
            client.sync(BOOT_TIMEOUT)
    raise AssertionError("unreachable")


def verify(project: Path, env: str, count: int = 100, seed: int = 1234, inputs: Path | None = None,
           port: str | None = None, progress: Callable[[int, int], None] | None = None,
           litert: bool = True, flash: bool = True) -> VerifyReport:
    """flash=False (``--no-flash``): test what is already there: no build, no upload (host and
    emulator envs run their existing build); the firmware's build hash is still checked."""
    project = project.resolve()
    specs = {s.name: s for s in read_envs(project)}
    if env not in specs:
        raise MicroforgeError(f"{project} has no env '{env}'",
                              f"envs in its platformio.ini: {', '.join(specs) or 'none'}")
    spec = specs[env]
    if port is None and spec.kind == "hardware" and spec.usb:
        port = detect_port(spec.usb)  # the board plugged in, found by its USB VID:PID
    reason = spec.skip_reason(port)
    if reason:
        raise ToolError(reason, "install what it names (bash tools/bootstrap does), or pick another --env")
    model = model_path(project)
    read_model(model)  # a damaged project model gets the reader's clear error, not TFLM's
    ref = Reference(model)
    samples = list(_inputs(ref, seed, count, inputs))
    lite, lite_status = _litert(model) if litert else (None, "not run")
    report = VerifyReport(str(project), env, model.name, seed, litert=lite_status,
                          classifier_outputs=classifier_outputs(ref.output_specs()),
                          output_specs=ref.output_specs(), samples=samples)
    expected = project_hash(project, model)
    build_dir = build(project, env) if flash else _existing_build(project, env, spec.kind)
    (project / ".pio").mkdir(exist_ok=True)
    log = open(project / ".pio" / f"mf-verify-{env}.log", "wb")  # noqa: SIM115 - closed below
    transport = start(spec, build_dir, port, 115200, sink=log.write, project=project, flash=flash)
    try:
        client = DeviceClient(transport, expected_build=expected)
        if spec.kind == "hardware":
            client.sync(BOOT_TIMEOUT)
        else:
            client.wait_boot(BOOT_TIMEOUT)
        if client.previous_fault is not None:
            report.previous_fault = str(client.previous_fault).splitlines()[0]
        info = client.info()
        report.counter, report.arena_bytes = info.counter, info.arena_bytes
        for k, arrays in enumerate(samples):
            report.results.append(_check(k, client, arrays, ref, lite, report))
            if progress:
                progress(k + 1, len(samples))
        client.exit()
    finally:
        transport.close()
        log.close()
    return report


def _existing_build(project: Path, env: str, kind: str) -> Path:
    build_dir = project / ".pio" / "build" / env
    if kind != "hardware" and not build_dir.is_dir():
        raise ToolError(f"--no-flash: env '{env}' of {project} was never built ({build_dir} is missing)",
                        "run `microforge verify` once without --no-flash")
    return build_dir


def _check(k: int, client: DeviceClient, arrays: list[np.ndarray], ref: Reference,
           lite: LiteRtReference | None, report: VerifyReport) -> InputResult:
    link_errors: list[str] = []
    outputs, us, cnt, retries = _run_one(client, to_bytes(arrays), k, link_errors)
    want = [np.ascontiguousarray(a) for a in ref.run(arrays)]
    want_bytes = [a.tobytes() for a in want]
    counts, where = _diff(outputs, want)
    result = InputResult(k, outputs == want_bytes, us, cnt, [o.hex() for o in outputs],
                         [w.hex() for w in want_bytes], counts, where, retries=retries,
                         link_errors=link_errors)
    got = _as_arrays(outputs, ref.output_specs())
    if lite is not None and got is not None:
        other = lite.run(arrays)
        result.litert_exact = all(np.array_equal(g, o) for g, o in zip(got, other, strict=True))
        result.litert_max_diff = max(
            float(np.max(np.abs(g.astype(np.float64) - o.astype(np.float64)), initial=0.0))
            for g, o in zip(got, other, strict=True))
    if report.classifier_outputs:
        idx = report.classifier_outputs
        result.top1 = [int(np.argmax(got[i])) for i in idx] if got is not None else [-1] * len(idx)
        result.top1_reference = [int(np.argmax(want[i])) for i in idx]
    return result
