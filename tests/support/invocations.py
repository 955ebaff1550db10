"""Models with several inputs run on both sides: seeded invocations through the ASan/UBSan driver
and through tflite-micro, compared bit for bit (the element-wise tests and the fast kernels')."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from support.rt_common import run, write

N_INPUTS = 20


def _interpreter(model: bytes):
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(model, arena_size=1 << 20)


def random_invocations(model: bytes, seed: int, n: int = N_INPUTS, special: bool = False) -> list[list[np.ndarray]]:
    """n invocations, each a list with one array per graph input (float inputs may hold inf / nan)."""
    from tflite.Model import Model

    graph_inputs = Model.GetRootAs(model, 0).Subgraphs(0).InputsLength()
    it = _interpreter(model)
    rng = np.random.default_rng(seed)
    dets = [it.get_input_details(i) for i in range(graph_inputs)]
    out = []
    for k in range(n):
        call = []
        for det in dets:
            shape, dtype = tuple(det["shape"]), det["dtype"]
            if dtype == np.int8:
                call.append(rng.integers(-128, 128, shape, dtype=np.int8))
            else:
                x = (rng.normal(0, 1, shape) * 10 ** rng.uniform(-2, 2)).astype(np.float32)
                if special and k < 3 and x.size:
                    x.flat[int(rng.integers(0, x.size))] = [np.inf, -np.inf, np.nan][k]
                call.append(x)
        out.append(call)
    return out


def reference(model: bytes, calls: list[list[np.ndarray]]) -> list[str]:
    it = _interpreter(model)
    got = []
    for call in calls:
        for i, x in enumerate(call):
            it.set_input(x, i)
        it.invoke()
        got.append(it.get_output(0).tobytes().hex())
    return got


def ours(driver: Path, model_path: Path, calls: list[list[np.ndarray]]) -> list[str]:
    data = b"".join(x.tobytes() for call in calls for x in call)
    res = run(driver, model_path, data)
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    return res.stdout.decode().split()


def check(driver: Path, tmp_path: Path, name: str, model: bytes, seed: int, special: bool = False,
          n: int = N_INPUTS) -> None:
    calls = random_invocations(model, seed, n=n, special=special)
    want = reference(model, calls)
    assert ours(driver, write(tmp_path, f"{name}.tflite", model), calls) == want, name


def check_calls(driver: Path, tmp_path: Path, name: str, model: bytes, calls: list[list[np.ndarray]]) -> None:
    assert ours(driver, write(tmp_path, f"{name}.tflite", model), calls) == reference(model, calls), name


ALL_INT8 = np.arange(-128, 128, dtype=np.int8)
# (s1, s2, so): random ones, and ones where SUB's float multipliers differ from ADD's double ones.
SCALES = [
    (0.12370983511209488, 0.014943997375667095, 0.004003444686532021),
    (0.0034779158886522055, 0.341330885887146, 0.6051861047744751),
    (0.10389375686645508, 0.21073730289936066, 0.07228738069534302),
    (0.6881467700004578, 0.34644466638565063, 0.0032125229481607676),
    (0.05, 0.05, 0.1),
]

