"""The server's layers import downwards only: views → use cases → models → the database.

Read from the source (every import statement, also those inside functions), because importing
`counter_server.models` runs `counter_server/__init__.py`, which imports the whole app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "counter_server"
VIEWS = ("counter_server.api", "counter_server.web", "counter_server.desk")


def _module_of(path: Path) -> str:
    parts = path.relative_to(SERVER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module `path` imports, absolute; `from a import b` counts as `a` and `a.b`."""
    module = _module_of(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> set[str]:
    """The modules `source`, a module of `package`, imports (see imports_of)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def _files(package: str) -> list[Path]:
    return sorted((SERVER / package).rglob("*.py"))


@pytest.mark.parametrize("path", _files("models"), ids=lambda p: p.name)
def test_models_import_only_the_database_layer(path: Path) -> None:
    from_server = {name for name in imports_of(path)
                   if _within(name, ("counter_server",)) and name != "counter_server"}
    allowed = ("counter_server.db", "counter_server.models")
    assert {name for name in from_server if not _within(name, allowed)} == set()


@pytest.mark.parametrize("path", _files("usecases"), ids=lambda p: p.name)
def test_use_cases_import_no_views_and_no_flask(path: Path) -> None:
    wrong = {name for name in imports_of(path) if _within(name, (*VIEWS, "flask"))}
    assert wrong == set()


def test_the_check_sees_imports_inside_functions_and_relative_ones() -> None:
    assert "counter_server.db" in imports_of(SERVER / "models" / "service_requests.py")
    hidden = "def service(self):\n    from ..usecases.catalog_versions import terms\n"
    assert "counter_server.usecases.catalog_versions" in imports_in(hidden,
                                                                    "counter_server.models")
    assert "counter_server.usecases" in imports_in("from counter_server import usecases",
                                                   "counter_server.models")


def _assigned_attributes(path: Path) -> set[str]:
    """The attribute names `path` assigns to on other objects (`item.status = …`, also inside
    tuples; an object setting its own `self.status` is not counted)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = (node.targets if isinstance(node, ast.Assign)
                   else [node.target] if isinstance(node, ast.AugAssign | ast.AnnAssign) else [])
        for target in targets:
            for part in ast.walk(target):
                if (isinstance(part, ast.Attribute) and isinstance(part.ctx, ast.Store)
                        and not (isinstance(part.value, ast.Name) and part.value.id == "self")):
                    names.add(part.attr)
    return names


@pytest.mark.parametrize("path", _files("api") + _files("desk") + _files("web"),
                         ids=lambda p: p.name)
def test_views_leave_statuses_to_the_use_cases(path: Path) -> None:
    assert _assigned_attributes(path) & {"status", "current_step"} == set()
