"""Hostile names for the model file and the output folder: quotes, spaces, unicode, Jinja, `../`, length."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from microforge.project.scaffold import jinja_literal
from support.rel_common import EXAMPLES, assert_refused, tree

HOSTILE = [
    "with space",
    "quote's",
    'double"quote',
    "back\\slash",
    "unicodé-模型-🙂",
    "{{7*7}}",
    "{% raw %}x{% endraw %}",
    "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "$(touch PWNED)",
    "-dash-first",
    "semi;colon&amp",
    "x" * 200,
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_model_file_name_is_kept_verbatim(tmp_path: Path, cli, monkeypatch, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    model = tmp_path / f"{name}.tflite"
    shutil.copy(EXAMPLES / "sine_int8.tflite", model)
    code, out, err = cli("new", "--model", str(model), "--board", "host", "--output", str(tmp_path / f"p {name}"))
    assert code == 0, err
    project = tmp_path / f"p {name}"
    assert (project / "model" / model.name).read_bytes() == model.read_bytes()
    answers = json.loads((project / ".cookiecutter.json").read_text())
    assert answers["model_path"] == str(model)  # not rendered by Jinja
    assert answers["project_name"] == project.name
    assert not (tmp_path / "PWNED").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([model.name, project.name])
    header = (project / "src" / "model" / "model.h").read_text()
    k_name = header.split('kName[] = "')[1].split('"')[0]
    assert re.fullmatch(r"[A-Za-z0-9_.-]+", k_name), k_name  # safe inside a C string literal


@pytest.mark.parametrize("name", HOSTILE[:6])
def test_hostile_board_id_is_refused_not_rendered(tmp_path: Path, cli, name: str) -> None:
    res = cli("new", "--model", str(EXAMPLES / "sine_int8.tflite"), "--board", name, "--output", str(tmp_path / "o"))
    assert_refused(res, "board")
    assert tree(tmp_path) == []


def test_output_with_dotdot_lands_where_it_says(tmp_path: Path, cli) -> None:
    (tmp_path / "a").mkdir()
    code, _, err = cli("new", "--model", str(EXAMPLES / "sine_int8.tflite"), "--board", "host",
                       "--output", str(tmp_path / "a" / ".." / "b"))
    assert code == 0, err
    assert (tmp_path / "b" / "platformio.ini").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"] and tree(tmp_path / "a") == []


def test_output_dotdot_of_a_full_folder_is_refused(tmp_path: Path, cli) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "keep.txt").write_text("x")
    res = cli("new", "--model", str(EXAMPLES / "sine_int8.tflite"), "--board", "host",
              "--output", str(tmp_path / "a" / ".."))
    assert_refused(res, "not empty")
    assert sorted(tree(tmp_path)) == ["a", "keep.txt"]


def test_force_never_replaces_the_folder_holding_the_model(tmp_path: Path, cli) -> None:
    out = tmp_path / "out"
    out.mkdir()
    model = out / "m.tflite"
    shutil.copy(EXAMPLES / "sine_int8.tflite", model)
    res = cli("new", "--model", str(model), "--board", "host", "--output", str(out), "--force")
    assert_refused(res, "inside the output folder")
    assert tree(tmp_path) == ["out", "out/m.tflite"]


def test_force_never_replaces_the_working_folder(tmp_path: Path, cli, monkeypatch) -> None:
    (tmp_path / "keep.txt").write_text("x")
    monkeypatch.chdir(tmp_path)
    res = cli("new", "--model", str(EXAMPLES / "sine_int8.tflite"), "--board", "host", "--output", ".", "--force")
    assert_refused(res, "current folder")
    assert tree(tmp_path) == ["keep.txt"]


def test_output_name_too_long(tmp_path: Path, cli) -> None:
    res = cli("new", "--model", str(EXAMPLES / "sine_int8.tflite"), "--board", "host",
              "--output", str(tmp_path / ("n" * 300)))
    assert_refused(res, "too long", "shorter")
    assert res[0] == 9
    assert tree(tmp_path) == []


def test_model_path_missing_or_a_folder(tmp_path: Path, cli) -> None:
    for model in (tmp_path / "nope.tflite", tmp_path):
        res = cli("new", "--model", str(model), "--board", "host", "--output", str(tmp_path / "o"))
        assert_refused(res, "not found", "--model")
        assert res[0] == 3
    assert tree(tmp_path) == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_jinja_literal_renders_to_itself(text: str) -> None:
    assert Environment().from_string(jinja_literal(text)).render() == text


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\0"), min_size=1,
               max_size=40).filter(lambda s: s not in (".", "..")))
def test_any_folder_name_makes_the_project_or_a_clear_error(tmp_path_factory, name: str) -> None:
    from microforge.cli import main

    base = tmp_path_factory.mktemp("names")
    code = main(["new", "--model", str(EXAMPLES / "sine_int8.tflite"), "--board", "host",
                 "--output", str(base / name)])
    made = list(base.iterdir())
    if code == 0:
        assert len(made) == 1 and (made[0] / "platformio.ini").is_file()
        assert json.loads((made[0] / ".cookiecutter.json").read_text())["project_name"] == made[0].name
    else:
        assert made == []
