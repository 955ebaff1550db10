"""Writes the hand-made malformed models of tests/fuzz/corpus and their manifest entries.

    .venv/bin/python tests/fuzz/make_corpus.py

Each model breaks one rule the runtime checks at init (runtime/README.md, "Verification");
manifest.json maps file -> {"what", "expect"} where expect is the status init() must return
("any" for fuzzer findings: an error or ok, never a crash). Entries for crash-* files already
in the manifest are kept.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
sys.path.insert(0, str(ROOT / "tests"))  # run as a script: the tests' support package
from support import tflite_build as tb  # noqa: E402
from support.tflite_build import INT8, INT32, Op, T  # noqa: E402

SINE = ROOT / "generator" / "microforge" / "examples" / "sine_int8.tflite"


# --- flatbuffer navigation on raw bytes (positions, for patching) ---------------------------------


def _u32(b: bytes, p: int) -> int:
    return struct.unpack_from("<I", b, p)[0]


def _vtable(b: bytes, table: int) -> int:
    return table - struct.unpack_from("<i", b, table)[0]


def field_pos(b: bytes, table: int, field: int) -> int:
    vt = _vtable(b, table)
    vo = struct.unpack_from("<H", b, vt + 4 + 2 * field)[0]
    assert vo, f"field {field} absent"
    return table + vo


def deref(b: bytes, pos: int) -> int:
    return pos + _u32(b, pos)


def vec_elem_table(b: bytes, vec: int, i: int) -> int:
    return deref(b, vec + 4 + 4 * i)


def patch(b: bytes, pos: int, fmt: str, value: int) -> bytes:
    out = bytearray(b)
    struct.pack_into(fmt, out, pos, value)
    return bytes(out)


def sine_positions(b: bytes) -> dict[str, int]:
    root = _u32(b, 0)
    subgraphs = deref(b, field_pos(b, root, 2))
    sg = vec_elem_table(b, subgraphs, 0)
    tensors = deref(b, field_pos(b, sg, 0))
    operators = deref(b, field_pos(b, sg, 3))
    t0 = vec_elem_table(b, tensors, 0)
    return {
        "root": root,
        "version": field_pos(b, root, 0),
        "subgraphs": subgraphs,
        "tensors": tensors,
        "operators": operators,
        "shape0": deref(b, field_pos(b, t0, 0)),
        "opcodes": deref(b, field_pos(b, root, 1)),
        "buffers": deref(b, field_pos(b, root, 4)),
    }


# --- semantic variants built from scratch ------------------------------------------------------


def fc(inputs: list[int], outputs: list[int], version: int = 4) -> Op:
    return Op(tb.FULLY_CONNECTED, inputs, outputs, version=version, fc=(tb.NONE, False))


def fc_tensors(w_shape: tuple[int, int] = (4, 6), w_scale: list[float] | None = None, w_qdim: int = 0) -> list[T]:
    rng = np.random.default_rng(1)
    w = rng.integers(-127, 128, w_shape).astype(np.int8)
    ws = w_scale if w_scale is not None else [0.01]
    return [
        T([1, w_shape[1]], INT8, scale=[0.05], zero_point=[0]),
        T(list(w_shape), INT8, w, scale=ws, zero_point=[0] * len(ws), qdim=w_qdim),
        T([1, w_shape[0]], INT8, scale=[0.1], zero_point=[0]),
    ]


def chain_tensors() -> list[T]:
    """t0 -> fc(w=t1) -> t2 -> fc(w=t3) -> t4."""
    rng = np.random.default_rng(2)
    return [
        T([1, 4], INT8, scale=[0.05], zero_point=[0]),
        T([4, 4], INT8, rng.integers(-127, 128, (4, 4)).astype(np.int8), scale=[0.01], zero_point=[0]),
        T([1, 4], INT8, scale=[0.1], zero_point=[0]),
        T([4, 4], INT8, rng.integers(-127, 128, (4, 4)).astype(np.int8), scale=[0.01], zero_point=[0]),
        T([1, 4], INT8, scale=[0.1], zero_point=[0]),
    ]


def semantic_models() -> dict[str, tuple[bytes, str, str]]:
    bad, unsup_op, unsup_type = "bad-model", "unsupported-op", "unsupported-type"
    m: dict[str, tuple[bytes, str, str]] = {}
    t = fc_tensors()
    m["ok-fc.tflite"] = (tb.build(t, [fc([0, 1, -1], [2])], [0], [2]), "valid int8 FC (control)", "ok")
    neg = fc_tensors()
    neg[2].shape = [1, -4]
    m["dim-negative.tflite"] = (tb.build(neg, [fc([0, 1, -1], [2])], [0], [2]), "output dim -4", bad)
    huge = fc_tensors()
    huge[2].shape = [65536, 65536]
    m["dim-huge.tflite"] = (tb.build(huge, [fc([0, 1, -1], [2])], [0], [2]), "2^32-element tensor", bad)
    rank = fc_tensors()
    rank[2].shape = [1, 1, 1, 1, 1, 1, 4]
    m["rank-7.tflite"] = (tb.build(rank, [fc([0, 1, -1], [2])], [0], [2]), "rank 7 > kMaxRank", unsup_type)
    mism = fc_tensors()
    mism[1].shape = [5, 6]  # data stays 4x6
    m["buffer-size-mismatch.tflite"] = (
        tb.build(mism, [fc([0, 1, -1], [2])], [0], [2]),
        "weights shape 5x6, buffer 24 bytes",
        bad,
    )
    m["op-input-out-of-range.tflite"] = (
        tb.build(fc_tensors(), [fc([0, 7, -1], [2])], [0], [2]),
        "operator input index 7 of 3 tensors",
        bad,
    )
    m["op-input-negative.tflite"] = (
        tb.build(fc_tensors(), [fc([0, 1, -2], [2])], [0], [2]),
        "operator input index -2",
        bad,
    )
    m["op-output-out-of-range.tflite"] = (
        tb.build(fc_tensors(), [fc([0, 1, -1], [3])], [0], [2]),
        "operator output index 3 of 3 tensors",
        bad,
    )
    m["graph-output-out-of-range.tflite"] = (
        tb.build(fc_tensors(), [fc([0, 1, -1], [2])], [0], [9]),
        "graph output index 9",
        bad,
    )
    m["op-unknown-code.tflite"] = (
        tb.build(fc_tensors(), [Op(200, [0, 1], [2])], [0], [2]),
        "builtin code 200",
        unsup_op,
    )
    m["op-bad-version.tflite"] = (
        tb.build(fc_tensors(), [fc([0, 1, -1], [2], version=99)], [0], [2]),
        "FULLY_CONNECTED version 99",
        unsup_op,
    )
    m["op-version-negative.tflite"] = (
        tb.build(fc_tensors(), [fc([0, 1, -1], [2], version=-3)], [0], [2]),
        "FULLY_CONNECTED version -3",
        unsup_op,
    )
    m["cycle-read-before-write.tflite"] = (
        tb.build(chain_tensors(), [fc([2, 3, -1], [4]), fc([0, 1, -1], [2])], [0], [4]),
        "op 0 reads t2, which only op 1 writes",
        bad,
    )
    m["cycle-loop.tflite"] = (
        tb.build(chain_tensors(), [fc([4, 1, -1], [2]), fc([2, 3, -1], [4])], [0], [4]),
        "t2 and t4 feed each other",
        bad,
    )
    m["write-twice.tflite"] = (
        tb.build(chain_tensors(), [fc([0, 1, -1], [2]), fc([0, 3, -1], [2])], [0], [2]),
        "two operators write t2",
        bad,
    )
    m["write-graph-input.tflite"] = (
        tb.build(chain_tensors(), [fc([0, 1, -1], [0])], [0], [0]),
        "operator writes its own input (in place)",
        bad,
    )
    m["output-never-written.tflite"] = (
        tb.build(chain_tensors(), [fc([0, 1, -1], [2])], [0], [4]),
        "graph output t4 has no producer",
        bad,
    )
    m["write-constant.tflite"] = (
        tb.build(chain_tensors(), [fc([0, 1, -1], [3])], [0], [3]),
        "operator output is a constant (weights) tensor",
        bad,
    )
    per_ch = fc_tensors(w_scale=[0.01, 0.02, 0.03])
    m["quant-per-channel-length.tflite"] = (
        tb.build(per_ch, [fc([0, 1, -1], [2])], [0], [2]),
        "3 per-channel scales for 4 output channels",
        bad,
    )
    zp = fc_tensors()
    zp[0].zero_point = [0, 0]
    m["quant-zero-point-length.tflite"] = (
        tb.build(zp, [fc([0, 1, -1], [2])], [0], [2]),
        "1 scale, 2 zero points",
        bad,
    )
    qdim = fc_tensors(w_scale=[0.01] * 4, w_qdim=5)
    m["quant-dimension-out-of-range.tflite"] = (
        tb.build(qdim, [fc([0, 1, -1], [2])], [0], [2]),
        "quantized_dimension 5 of a rank-2 tensor",
        bad,
    )
    bias = fc_tensors()
    bias.append(T([4], INT32, np.zeros(4, np.int32), scale=[0.0005], zero_point=[0]))
    m["op-too-many-outputs-ok-shapes.tflite"] = (
        tb.build(bias, [fc([0, 1, 3], [2, 3])], [0], [2]),
        "second output is the constant bias",
        bad,
    )
    return m


# --- byte-level variants of the bundled sine model ---------------------------------------------


def byte_models() -> dict[str, tuple[bytes, str, str]]:
    b = SINE.read_bytes()
    p = sine_positions(b)
    bad = "bad-model"
    m: dict[str, tuple[bytes, str, str]] = {}
    for n in (0, 7, 64, len(b) // 2, len(b) - 1):
        m[f"truncated-{n}.tflite"] = (b[:n], f"sine_int8 cut to {n} bytes", bad)
    m["identifier-wrong.tflite"] = (b[:4] + b"TFL2" + b[8:], "identifier TFL2", bad)
    m["schema-version-2.tflite"] = (patch(b, p["version"], "<I", 2), "Model.version 2", bad)
    m["root-offset-outside.tflite"] = (patch(b, 0, "<I", 0xFFFFFFF0), "root offset past the end", bad)
    m["vtable-outside.tflite"] = (patch(b, p["root"], "<i", -0x7FFFFFF0), "root vtable past the end", bad)
    vt = _vtable(b, p["root"])
    m["vtable-odd-size.tflite"] = (patch(b, vt, "<H", 7), "vtable size 7 (odd)", bad)
    m["object-size-huge.tflite"] = (patch(b, vt + 2, "<H", 0xFFFF), "root object size 65535", bad)
    m["tensors-length-huge.tflite"] = (patch(b, p["tensors"], "<I", 0x7FFFFFFF), "tensors vector 2^31-1", bad)
    m["operators-length-huge.tflite"] = (
        patch(b, p["operators"], "<I", 0x40000000),
        "operators vector 2^30",
        bad,
    )
    m["shape-length-huge.tflite"] = (patch(b, p["shape0"], "<I", 0xFFFFFFFF), "tensor 0 shape length 2^32-1", bad)
    m["subgraphs-none.tflite"] = (patch(b, p["subgraphs"], "<I", 0), "no subgraph", bad)
    m["buffers-length-huge.tflite"] = (patch(b, p["buffers"], "<I", 0x10000000), "buffers vector 2^28", bad)
    m["subgraph-offset-outside.tflite"] = (
        patch(b, p["subgraphs"] + 4, "<I", 0x7FFFFFFF),
        "subgraphs[0] offset past the end",
        bad,
    )
    return m


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    manifest_path = CORPUS / "manifest.json"
    old = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    manifest = {k: v for k, v in old.items() if k.startswith("crash-")}
    for name, (data, what, expect) in {**semantic_models(), **byte_models()}.items():
        (CORPUS / name).write_bytes(data)
        manifest[name] = {"what": what, "expect": expect}
    manifest_path.write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n")
    print(f"{len(manifest)} manifest entries")


if __name__ == "__main__":
    main()
