"""The import rules of docs/ARCHITECTURE.md, read from the source with ast (nothing is imported),
and the defaults the CLI and the GUI must share."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gaitanon_core", "app", "training")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, absolute, including `from package import module`."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    modules = {_module_name(p): p for p in files}
    return {name: {m for m in _imports(path) if m in modules} for name, path in modules.items()}


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_the_engine_imports_neither_cli_nor_app_nor_training():
    for module, imported in _graph().items():
        if _under(module, "gaitanon_core") and not _under(module, "gaitanon_core.cli"):
            assert not [m for m in imported if _under(m, "gaitanon_core.cli")], module
        if _under(module, "gaitanon_core"):
            assert not [m for m in imported if _under(m, "app") or _under(m, "training")], module


def test_the_gui_imports_neither_the_cli_nor_training():
    for module, imported in _graph().items():
        if _under(module, "app"):
            assert not [m for m in imported if _under(m, "gaitanon_core.cli") or _under(m, "training")], module


def test_no_import_circles():
    """In the engine, the GUI and training alike (lazy imports inside functions count too)."""
    graph = _graph()
    # A package's __init__ re-exporting its own modules is not a circle: follow module-to-module edges only.
    edges = {m: {i for i in imported if i in graph and not m.startswith(i + ".")} for m, imported in graph.items()}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(module):] + [module]))
        if module in done:
            return
        for imported in sorted(edges[module]):
            visit(imported, path + [module])
        done.add(module)

    for module in sorted(edges):
        visit(module, [])


def test_the_cli_and_the_gui_accept_the_same_video_suffixes():
    import re

    from app.controllers.main_window import VIDEO_FILTER
    from gaitanon_core import batch
    from gaitanon_core.options import VIDEO_SUFFIXES

    gui = {pattern.lstrip("*") for pattern in re.match(r"Videos \(([^)]*)\)", VIDEO_FILTER)[1].split()}
    assert gui == set(VIDEO_SUFFIXES) == set(batch.VIDEO_SUFFIXES)
