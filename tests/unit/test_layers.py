"""The package's data flows one way (docs/architecture.md): each layer imports only the layers below
it, and no module imports itself back through others. Imports read from the source (TYPE_CHECKING
blocks, which never run, left out)."""

from __future__ import annotations

import ast
from pathlib import Path

import microforge

PKG = Path(microforge.__file__).parent
# lowest first; a module may import its own layer and those before it
LAYERS = [
    {"microforge", "microforge.errors", "microforge.resources", "microforge.boards"},
    {"microforge.model"},
    {"microforge.lower"},
    {"microforge.project"},
    {"microforge.device"},
    {"microforge.harness"},
    {"microforge.cli"},
]


def _module(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module in layer or any(module.startswith(name + ".") for name in layer if name != "microforge"):
            return i
    raise AssertionError(f"{module} is in no layer of docs/architecture.md")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
            for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("microforge"):
            for alias in node.names:  # "from microforge.project import emit" imports the module emit
                sub = f"{node.module}.{alias.name}"
                found.add(sub if (PKG.parent / (sub.replace(".", "/") + ".py")).is_file() else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("microforge"))
    return found


def _graph() -> dict[str, set[str]]:
    return {_module(p): _imports(p) for p in PKG.rglob("*.py")}


def test_no_relative_imports() -> None:
    for path in PKG.rglob("*.py"):
        rel = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ImportFrom) and n.level]
        assert not rel, f"{path}: relative import"


def test_each_layer_imports_only_the_layers_below() -> None:
    for module, imports in _graph().items():
        for imported in imports:
            assert _layer(imported) <= _layer(module), f"{module} imports {imported}, a layer above it"


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if nxt == node or nxt not in graph:
                continue
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for module in graph:
        if module not in state:
            visit(module, [])


def test_only_the_model_package_opens_the_flatbuffer() -> None:
    """Lowering and emission read options and constants through ``ModelInfo`` (``model.root``,
    ``builtin_options``), so one reading serves them all. The reference interpreter's loader
    (device/reference.py) reads the I/O counts of the bytes it is handed, before any ModelInfo."""
    allowed = {PKG / "device" / "reference.py"}
    openers = sorted(str(p.relative_to(PKG)) for p in PKG.rglob("*.py")
                     if "GetRootAs" in p.read_text() and p not in allowed and p.parent.name != "model")
    assert openers == [], f"modules that open the flatbuffer themselves: {openers}"
