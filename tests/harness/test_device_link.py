"""Device in the loop on a real firmware: `microforge verify`, the real-board (serial) path against
QEMU's UART on a pseudo-terminal (pytest-embedded's stock serial service), link failures, and a
scripted MLPerf Tiny runner session.

Expected outputs always come from TFLM's interpreter, run here."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from microforge.cli import main as cli_main
from microforge.device import verify as verify_mod
from microforge.device.envs import EnvSpec, read_envs
from microforge.device.protocol import DeviceClient, DeviceGone, DeviceTimeout
from microforge.device.reference import Reference, to_bytes
from microforge.device.runner import build, qemu_command, qemu_on_pty, start
from microforge.device.transport import SerialTransport
from microforge.project.scaffold import generate
from support import EXAMPLES, SHARED_MODELS

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("g++", "arm-none-eabi-g++", "qemu-system-arm")),
    reason="needs g++, gcc-arm-none-eabi and qemu-system-arm")

AD01 = SHARED_MODELS / "mlperf_tiny/ad/ad01_int8.tflite"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ad01 (profile ad01, as the official runner wants) when ../shared is there, else sine."""
    model = AD01 if AD01.is_file() else EXAMPLES / "sine_int8.tflite"
    path = generate(model, ["host", "qemu-m4"], tmp_path_factory.mktemp("link") / "proj")
    for env in ("host", "qemu-m4"):
        build(path, env)
    return path


def _spec(project: Path, env: str) -> EnvSpec:
    return next(s for s in read_envs(project) if s.name == env)


def _model(project: Path) -> Path:
    return next((project / "model").glob("*.tflite"))


# -- microforge verify ---------------------------------------------------------------------
@pytest.mark.parametrize("env", ["host", "qemu-m4"])
def test_verify_reports_and_files(project: Path, env: str, tmp_path: Path) -> None:
    out = {k: tmp_path / f"r.{k}" for k in ("json", "xml", "npz")}
    code = cli_main(["verify", str(project), "--env", env, "--count", "6", "--seed", "5",
                     "--json", str(out["json"]), "--junit", str(out["xml"]),
                     "--save-outputs", str(out["npz"])])
    assert code == 0
    report = json.loads(out["json"].read_text())
    assert report["bit_exact"] == 6 and report["ok"] and report["inputs"] == 6
    assert report["litert"] == "ok" and report["litert_exact"] is not None
    ref = Reference(_model(project))
    saved = np.load(out["npz"])
    for k, (inputs, row) in enumerate(zip(ref.random_inputs(5, 6), report["results"], strict=True)):
        want = ref.run(inputs)
        assert np.array_equal(saved[f"in{k}_0"], inputs[0])
        assert row["outputs"] == [w.tobytes().hex() for w in want]  # raw device bytes == TFLM
        assert np.array_equal(saved[f"out{k}_0"], want[0]) and row["mismatched"] == [0]
    lat = report["latency"]
    # whole microseconds: a tiny model on a fast host can take 0 us; the QEMU timer always advances
    assert 0 <= lat["us_min"] <= lat["us_median"] <= lat["us_max"]
    assert lat["us_min"] > 0 or env == "host"
    assert report["counter"] == ("instructions" if env == "qemu-m4" else "none")
    if env == "qemu-m4":
        assert lat["count_min"] > 1000
    cases = list(ET.parse(out["xml"]).getroot().iter("testcase"))
    assert len(cases) == 6 and not any(c.find("failure") is not None for c in cases)
    # the saved file feeds back as --inputs (in{k}_0 keys; out/tflm keys ignored)
    again = verify_mod.verify(project, env, count=3, inputs=out["npz"], litert=False)
    assert [r.outputs for r in again.results] == [r["outputs"] for r in report["results"][:3]]


def test_verify_fails_on_a_mismatch(project: Path, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real_run = Reference.run

    def off_by_one(self: Reference, inputs: list[np.ndarray]) -> list[np.ndarray]:
        outs = real_run(self, inputs)
        outs[0].ravel()[0] += 1  # one element of the "reference" moved: the device now differs
        return outs

    def no_litert(*_: object) -> None:
        raise RuntimeError("Didn't find op for builtin opcode 'FOO'")

    monkeypatch.setattr(Reference, "run", off_by_one)
    monkeypatch.setattr(verify_mod, "LiteRtReference", no_litert)
    junit = tmp_path / "j.xml"
    code = cli_main(["verify", str(project), "--env", "host", "--count", "2", "--junit", str(junit),
                     "--json", str(tmp_path / "r.json")])
    assert code != 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["bit_exact"] == 0 and [r["mismatched"] for r in report["results"]] == [[1], [1]]
    assert report["litert"].startswith("unavailable: Didn't find op")
    assert len(list(ET.parse(junit).getroot().iter("failure"))) == 2


SHARED_CASES = {"kws": ("mlperf_tiny/kws/kws_ref_model.tflite", "kws_ref_model"),
                "ic": ("mlperf_tiny/ic/pretrainedResnet_quant.tflite", "pretrainedResnet_quant"),
                "person_detect": ("tflm/person_detection/person_detect.tflite", "person_detect")}


@pytest.mark.parametrize("case", list(SHARED_CASES))
def test_verify_shared_models_against_goldens(case: str, tmp_path: Path) -> None:
    """MLPerf KWS, IC and TFLM person_detection: bit-exact on host and qemu-m4 on the goldens."""
    rel, golden_name = SHARED_CASES[case]
    model, golden = SHARED_MODELS / rel, SHARED_MODELS / "golden" / f"{golden_name}.npz"
    if not (model.is_file() and golden.is_file()):
        pytest.skip(f"{model} or {golden} not present (../shared is optional)")
    project = generate(model, ["host", "qemu-m4"], tmp_path / case)
    ref, gold = Reference(model), np.load(golden)
    for env, count in (("host", 3), ("qemu-m4", 2)):
        report = verify_mod.verify(project, env, count=count, inputs=golden)
        assert len(report.results) == count and report.ok
        for r in report.results:
            want = ref.run([gold[f"in{r.index}_0"]])[0]
            assert r.outputs == [want.tobytes().hex()] == [gold[f"out{r.index}_0"].tobytes().hex()]
            assert r.top1 == r.top1_reference == [int(np.argmax(want))]
        assert report.litert == "ok" or report.litert.startswith("unavailable: ")


# -- the real-board path: pyserial on QEMU's UART -------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def qemu_serial(project: Path) -> Iterator[tuple[str, subprocess.Popen[bytes], int]]:
    """QEMU with UART0 on a pty (and its monitor on a TCP socket): (pty path, process, monitor)."""
    spec = _spec(project, "qemu-m4")
    monitor = _free_port()
    argv = [a for a in qemu_command(project / ".pio/build/qemu-m4", spec) if a not in ("-monitor", "none")]
    proc, pty = qemu_on_pty([*argv, "-monitor", f"tcp:127.0.0.1:{monitor},server=on,wait=off"])
    yield pty, proc, monitor
    proc.kill()
    proc.wait(5)


def test_serial_transport_runs_bit_exact_on_qemu(project: Path, qemu_serial: tuple) -> None:
    url, _, _ = qemu_serial
    ref = Reference(_model(project))
    link = SerialTransport(url, open_timeout=10)
    try:
        client = DeviceClient(link)
        link.send_bytes(b"\x00\xffgarbage 1234")  # line noise before the first command: sync retries
        client.sync(timeout=5)
        assert client.info().counter == "instructions"
        for inputs in ref.random_inputs(11, 3):
            client.load(to_bytes(inputs))
            first, again = client.run(), client.run()
            assert first.outputs == [w.tobytes() for w in ref.run(inputs)]
            assert first.count == again.count > 0  # -icount: the same instructions every time
    finally:
        link.close()


def test_reset_mid_run_resynchronizes(project: Path, qemu_serial: tuple) -> None:
    url, _, monitor = qemu_serial
    ref = Reference(_model(project))
    link = SerialTransport(url, open_timeout=10)
    try:
        client = DeviceClient(link)
        client.sync(timeout=5)
        (inputs,) = ref.random_inputs(3, 1)
        client.load(to_bytes(inputs))
        with socket.create_connection(("127.0.0.1", monitor), timeout=5) as mon:
            mon.sendall(b"system_reset\n")
            time.sleep(1.0)  # the firmware reboots and prints its banner: the db buffer is gone
        outputs, _, _, retries = verify_mod._run_one(client, to_bytes(inputs))
        assert retries == 1 and outputs == [w.tobytes() for w in ref.run(inputs)]
    finally:
        link.close()


def test_no_answer_times_out_naming_port_and_command(project: Path) -> None:
    spec = _spec(project, "qemu-m4")
    proc, url = qemu_on_pty([*qemu_command(project / ".pio/build/qemu-m4", spec), "-S"])  # CPU stopped
    link = SerialTransport(url, open_timeout=10)
    try:
        t0 = time.monotonic()
        with pytest.raises(DeviceTimeout) as err:
            DeviceClient(link).command("profile", timeout=1.5)
        assert time.monotonic() - t0 < 3.0
        assert url in str(err.value) and "'profile%'" in str(err.value)
    finally:
        link.close()
        proc.kill()
        proc.wait(5)


def test_port_that_disappears_is_reported_at_once(project: Path, qemu_serial: tuple) -> None:
    url, proc, _ = qemu_serial
    link = SerialTransport(url, open_timeout=10)
    try:
        client = DeviceClient(link)
        client.sync(timeout=5)
        proc.kill()
        proc.wait(5)
        t0 = time.monotonic()
        with pytest.raises(DeviceGone) as err:
            client.command("name", timeout=20)
        assert time.monotonic() - t0 < 5.0 and url in str(err.value)
    finally:
        link.close()


# -- a scripted MLPerf Tiny runner session ---------------------------------------------------
# The official runner's whole-line patterns (see anchors.md).
NAME = re.compile(r"^m-name-dut-\[([^\]]+)\]$")
PROFILE = re.compile(r"^m-profile-\[([^\]]+)\]$")
MODEL = re.compile(r"^m-model-\[([^\]]+)\]$")
LAP = re.compile(r"^m-lap-us-(\d+)$")
RESULTS = re.compile(r"^m-results-\[([^\]]*)\]$")


def _exchange(link: object, cmd: str, timeout: float = 30.0) -> list[str]:
    """Like the runner: send ``cmd%`` (no CR/LF), read '\\n'-split lines up to one with m-ready."""
    if cmd:
        link.send(cmd + "%")  # type: ignore[attr-defined]
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        line = link.read_line(max(deadline - time.monotonic(), 0.0)).strip()  # type: ignore[attr-defined]
        if "m-ready" in line:
            return lines
        lines.append(line)


@pytest.mark.parametrize("env", ["host", "qemu-m4"])
def test_mlperf_runner_session(project: Path, env: str, tmp_path: Path) -> None:
    ref = Reference(_model(project))
    (inputs,) = ref.random_inputs(21, 1)
    data = to_bytes(inputs)
    log = open(tmp_path / "dut.log", "wb")  # noqa: SIM115 - closed below
    link = start(_spec(project, env), project / ".pio/build" / env, None, 115200, log.write, project)
    try:
        assert _exchange(link, "", 30) == ["m-timestamp-mode-performance", "m-init-done"]  # boot
        (name,) = _exchange(link, "name")
        assert NAME.match(name) and NAME.match(name)[1] == "microforge"
        prof, model = _exchange(link, "profile")
        assert PROFILE.match(prof) and MODEL.match(model)
        if AD01.is_file():
            assert MODEL.match(model)[1] == "ad01"
        assert _exchange(link, f"db load {len(data)}") == [f"m-[Expecting {len(data)} bytes]"]
        replies = [_exchange(link, "db " + data[i:i + 31].hex()) for i in range(0, len(data), 31)]
        assert all(r == [] for r in replies[:-1]) and replies[-1] == ["m-load-done"]
        lines = _exchange(link, "infer 10 1")
        laps = [int(m[1]) for ln in lines if (m := LAP.match(ln))]
        assert len(laps) == 2 and laps[0] <= laps[1]
        assert lines.index("m-infer-start-10") < [i for i, ln in enumerate(lines) if LAP.match(ln)][0]
        (res,) = [ln for ln in lines if RESULTS.match(ln)]
        values = [float(v) for v in RESULTS.match(res)[1].split(",")]
        spec = ref.output_specs()[0]
        want = ref.run(inputs)[0].astype(np.float64).ravel()
        if spec.scale > 0:
            want = (want - spec.zero_point) * spec.scale
        assert np.allclose(values, want, rtol=1e-5, atol=2e-6)
        assert _exchange(link, "results") == [res]
    finally:
        link.send("mf-exit%")
        link.close()
        log.close()
