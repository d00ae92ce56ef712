"""The frontend's layering, read from its source with `ast`: no blueprint imports the factory, no cycle.

app.py is the factory: it imports the blueprints and every `init_app`. A blueprint that imports it back
is the cycle issue 11 removed (views -> app -> views), so it fails here, as does any other cycle among
tenki_frontend's modules. Every import counts, also one inside a function: a lazy import hides a cycle
from Python's import system, not from the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import tenki_frontend

PACKAGE = "tenki_frontend"
FACTORY = f"{PACKAGE}.app"
# Blueprints are found by their Blueprint(...) call; these must be among them, so a change to how the
# test finds them cannot quietly make it check nothing.
KNOWN_BLUEPRINTS = {f"{PACKAGE}.{name}" for name in ("views", "api", "health")}

Graph = Mapping[str, frozenset[str]]


def module_sources(package_dir: Path) -> dict[str, str]:
    """Dotted module name -> source of each module directly in the package."""
    sources = {}
    for path in sorted(package_dir.glob("*.py")):
        name = PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}"
        sources[name] = path.read_text(encoding="utf-8")
    return sources


def imported_modules(module: str, source: str, known: Iterable[str]) -> frozenset[str]:
    """The modules of `known` that `module`'s source imports, anywhere in it (relative imports resolved)."""
    known = set(known)
    # What `from . import x` is relative to: the package itself in __init__, else the module's parent.
    here = module if module == PACKAGE else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = here.rsplit(".", node.level - 1)[0] if node.level else ""
            target = ".".join(part for part in (base, node.module or "") if part)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                # `from pkg import name` imports the submodule pkg.name when there is one, else pkg.
                found.add(submodule if submodule in known else target)
    return frozenset(found & known - {module})


def import_graph(sources: Mapping[str, str]) -> dict[str, frozenset[str]]:
    return {name: imported_modules(name, source, sources) for name, source in sources.items()}


def blueprint_modules(sources: Mapping[str, str]) -> set[str]:
    """The modules that make a flask Blueprint (a call of a name or attribute `Blueprint`)."""
    found = set()
    for name, source in sources.items():
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == "Blueprint":
                    found.add(name)
    return found


def find_cycle(graph: Graph) -> list[str] | None:
    """One import cycle as a path that ends where it starts (a -> b -> a), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for successor in sorted(graph.get(node, ())):
            cycle = visit(successor, path + [node])
            if cycle:
                return cycle
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start, [])
        if cycle:
            return cycle
    return None


def frontend_sources() -> dict[str, str]:
    return module_sources(Path(tenki_frontend.__file__).parent)


def test_no_blueprint_imports_the_app_factory() -> None:
    sources = frontend_sources()
    graph = import_graph(sources)
    blueprints = blueprint_modules(sources)
    assert KNOWN_BLUEPRINTS <= blueprints, f"blueprints not found: {KNOWN_BLUEPRINTS - blueprints}"
    offenders = sorted(name for name in blueprints if FACTORY in graph[name])
    assert offenders == [], f"{offenders} import {FACTORY}: ask the resource module (weather.py) instead"


def test_there_is_no_import_cycle_among_the_frontends_modules() -> None:
    graph = import_graph(frontend_sources())
    assert graph[FACTORY], "the factory imports its parts: the graph must not be empty"
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or ())


# The checks themselves, on small made-up packages: each must see what it exists to see.


def test_the_check_sees_a_blueprint_that_imports_the_factory_even_lazily() -> None:
    sources = {
        PACKAGE: "",
        FACTORY: "from . import views\n",
        f"{PACKAGE}.views": (
            "from flask import Blueprint\nbp = Blueprint('views', __name__)\n"
            "def page():\n    from .app import fetch_weather\n"
        ),
    }
    graph = import_graph(sources)
    assert blueprint_modules(sources) == {f"{PACKAGE}.views"}
    assert FACTORY in graph[f"{PACKAGE}.views"]
    assert find_cycle(graph) == [FACTORY, f"{PACKAGE}.views", FACTORY]


def test_the_check_resolves_every_spelling_of_an_import() -> None:
    known = [PACKAGE, f"{PACKAGE}.a", f"{PACKAGE}.b", f"{PACKAGE}.c", f"{PACKAGE}.d"]
    source = (
        "import tenki_frontend.a\nfrom tenki_frontend import b\nfrom .c import thing\n"
        "from . import d as renamed, create_app\nimport flask\n"
    )
    assert imported_modules(f"{PACKAGE}.x", source, known) == set(known)
    # In __init__.py, `.` is the package itself.
    assert imported_modules(PACKAGE, "from .a import f\n", known) == {f"{PACKAGE}.a"}


def test_the_check_finds_a_longer_cycle_and_passes_a_tree() -> None:
    assert find_cycle({"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"})}) == [
        "a", "b", "c", "a"
    ]
    assert find_cycle({"a": frozenset({"b", "c"}), "b": frozenset({"c"}), "c": frozenset()}) is None
