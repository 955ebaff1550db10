"""What `microforge verify` writes: the terminal summary, JSON, JUnit XML and the outputs .npz.

``--save-outputs FILE.npz`` keys: ``out{k}_{i}`` the device's output ``i`` for sample ``k`` (typed
and shaped like the model's output), ``tflm{k}_{i}`` TFLM's. Together with ``in{k}_{i}`` (written
when the inputs are given) the file can be fed back to ``--inputs``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import numpy as np

from microforge.device.verify import VerifyReport


def as_dict(r: VerifyReport) -> dict[str, Any]:
    return {
        "project": r.project, "env": r.env, "model": r.model, "seed": r.seed,
        "inputs": len(r.results), "bit_exact": r.exact, "ok": r.ok,
        "litert": r.litert, "litert_exact": r.litert_exact,
        "classifier_outputs": r.classifier_outputs, "top1_agree": r.top1_agree,
        "counter": r.counter, "arena_bytes": r.arena_bytes, "latency": r.latency(),
        "outputs": [{"index": s.index, "dtype": s.dtype.name, "shape": list(s.shape)}
                    for s in r.output_specs],
        "results": [{**x.__dict__, "mismatched_elements": x.mismatched_elements} for x in r.results],
    }


def save_outputs(r: VerifyReport, path: Path) -> None:
    arrays: dict[str, np.ndarray] = {}
    for x in r.results:
        for i, spec in enumerate(r.output_specs):
            for prefix, hexes in (("out", x.outputs), ("tflm", x.reference)):
                raw = bytes.fromhex(hexes[i]) if i < len(hexes) else b""
                if len(raw) == spec.nbytes:
                    arrays[f"{prefix}{x.index}_{i}"] = np.frombuffer(raw, spec.dtype).reshape(spec.shape)
                else:  # the device sent the wrong number of bytes: keep them as they came
                    arrays[f"{prefix}{x.index}_{i}"] = np.frombuffer(raw, np.uint8)
        if x.index < len(r.samples):
            for i, arr in enumerate(r.samples[x.index]):
                arrays[f"in{x.index}_{i}"] = arr
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]


def write_junit(r: VerifyReport, path: Path) -> None:
    """One testsuite, one testcase per input (``input[k]``); a mismatch is a failure."""
    failures = len(r.results) - r.exact
    suite = ET.Element("testsuite", name=f"microforge.device.verify.{r.env}", tests=str(len(r.results)),
                       failures=str(failures), errors="0", skipped="0")
    props = ET.SubElement(suite, "properties")
    lat = r.latency()
    for key, value in [("model", r.model), ("env", r.env), ("seed", r.seed), ("counter", r.counter),
                       ("litert", r.litert), *sorted(lat.items())]:
        ET.SubElement(props, "property", name=key, value=str(value))
    for x in r.results:
        case = ET.SubElement(suite, "testcase", classname=f"{r.model}.{r.env}", name=f"input[{x.index}]",
                             time=f"{x.us / 1e6:.6f}")
        if not x.exact:
            fail = ET.SubElement(case, "failure", message=f"{x.mismatched_elements} element(s) differ from TFLM")
            fail.text = "\n".join(f"output {i}: {n} differ, first at {at}; device {d[:64]} reference {w[:64]}"
                                  for i, (n, at, d, w) in enumerate(zip(x.mismatched, x.mismatch_at,
                                                                        x.outputs, x.reference,
                                                                        strict=False)) if n)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def format_report(r: VerifyReport) -> str:
    lat = r.latency()
    n = len(r.results)
    lines = [f"{r.model} on {r.env}: {r.exact}/{n} inputs bit-exact with TFLM (seed {r.seed})"]
    if r.litert == "ok":
        worst = max((x.litert_max_diff or 0.0 for x in r.results), default=0.0)
        lines.append(f"  LiteRT   {r.litert_exact}/{n} inputs equal to LiteRT's reference kernels"
                     + (f" (max |diff| {worst:g})" if worst else ""))
    else:
        lines.append(f"  LiteRT   {r.litert}")
    if r.top1_agree is not None:
        lines.append(f"  top-1    {r.top1_agree}/{n} agree with TFLM (outputs {r.classifier_outputs})")
    lines.append(f"  latency  median {lat['us_median']:.0f} us (min {lat['us_min']:.0f}, "
                 f"max {lat['us_max']:.0f})")
    unit = {"instructions": "instructions", "cycles": "cycles"}.get(r.counter)
    if unit:
        if lat["count_min"] == lat["count_max"]:
            lines.append(f"  {unit} per inference: exactly {lat['count_min']:,.0f}")
        else:
            lines.append(f"  {unit} per inference: median {lat['count_median']:,.0f} "
                         f"(min {lat['count_min']:,.0f}, max {lat['count_max']:,.0f})")
    lines.append(f"  arena    {r.arena_bytes:,} B")
    if r.previous_fault:
        lines.append(f"  note     at boot the board reported a fault that ended an earlier run: {r.previous_fault}")
    retried = sum(1 for x in r.results if x.retries)
    if retried:
        lines.append(f"  link     {retried} input(s) repeated after a device reset or a garbled reply")
    bad = [x.index for x in r.results if x.link_errors]
    if bad:
        lines.append(f"  link     checksum mismatch on input(s) {', '.join(map(str, bad[:10]))} (repeated, "
                     "then exact): a bad byte on the serial link; check the cable/baud")
    for bad in [x for x in r.results if not x.exact][:5]:
        lines.append(f"  MISMATCH input #{bad.index}: {bad.mismatched_elements} element(s) "
                     f"(per output {bad.mismatched}, first at {bad.mismatch_at[:2]}); "
                     f"device {' '.join(bad.outputs)[:48]} reference {' '.join(bad.reference)[:48]}")
    lines.append("VERIFIED: bit-exact" if r.ok else "FAILED: outputs differ from TFLM")
    return "\n".join(lines)
