"""`microforge inspect/new/verify` on the malformed models of tests/fuzz/corpus: clear errors, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from microforge.errors import ModelError
from microforge.model import check_runtime_rules, read_model
from microforge.project.scaffold import generate
from support.rel_common import CORPUS, EXAMPLES, MANIFEST, assert_refused, tree

MALFORMED = sorted(n for n, e in MANIFEST.items() if e["expect"] != "ok")
# What the Python reader itself rejects (the rest are well-formed flatbuffers that break runtime rules).
READER_REJECTS = {"truncated-", "identifier-", "schema-", "root-", "vtable-", "tensors-length", "operators-length",
                  "shape-length", "subgraphs-none", "subgraph-offset", "buffers-length", "dim-negative",
                  "buffer-size", "op-input-out", "op-input-neg", "op-output-out", "graph-output-out", "quant-",
                  "object-size"}


def test_corpus_has_every_case() -> None:
    assert len(MALFORMED) >= 20
    for prefix in ("truncated-", "identifier-", "dim-negative", "dim-huge", "buffer-size", "op-input-out",
                   "op-unknown", "op-bad-version", "cycle-", "write-twice", "quant-"):
        assert any(n.startswith(prefix) for n in MALFORMED), prefix


@pytest.mark.parametrize("name", MALFORMED)
def test_new_refuses_and_writes_nothing(tmp_path: Path, cli, name: str) -> None:
    model = tmp_path / "in" / name
    model.parent.mkdir()
    shutil.copy(CORPUS / name, model)
    res = cli("new", "--model", str(model), "--board", "host", "--output", str(tmp_path / "out" / "proj"))
    assert_refused(res, name)
    assert res[0] in (3, 4)  # ModelError / UnsupportedOpsError
    assert tree(tmp_path) == ["in", f"in/{name}"]


@pytest.mark.parametrize("name", MALFORMED)
def test_inspect_reports_or_describes(cli, name: str) -> None:
    code, out, err = cli("inspect", str(CORPUS / name))
    rejected = any(name.startswith(p) for p in READER_REJECTS)
    if rejected:
        assert_refused((code, out, err), name)
        assert code == 3
    else:
        assert code == 0 and not err and out, (code, err)


@pytest.mark.parametrize("name", MALFORMED)
def test_python_reader_never_crashes(name: str) -> None:
    try:
        check_runtime_rules(read_model(CORPUS / name))
    except ModelError as err:
        assert str(err) and err.hint
    else:
        assert name.startswith(("op-unknown", "op-bad-version", "op-version"))


def test_verify_on_a_project_whose_model_was_damaged(tmp_path: Path, cli) -> None:
    project = generate(EXAMPLES / "sine_int8.tflite", ["host"], tmp_path / "proj")
    (project / "model" / "sine_int8.tflite").write_bytes((CORPUS / "truncated-1112.tflite").read_bytes())
    before = tree(project)
    res = cli("verify", str(project), "--env", "host", "--count", "2")
    assert_refused(res)  # verify.py reads the model with TFLM's schema: a clean message, not a traceback
    assert tree(project) == before


def test_verify_on_a_folder_that_is_not_a_project(tmp_path: Path, cli) -> None:
    res = cli("verify", str(tmp_path), "--env", "host")
    assert res[0] != 0 and res[2].startswith("error: ") and "Traceback" not in res[2], res
