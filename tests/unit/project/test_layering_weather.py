"""The weather service's layers, checked from the source: the domain knows nothing of gRPC.

Each domain module, and every tenki_weather module it imports in turn, must import no gRPC or protobuf
package and no module of the gRPC layer (servicer, server, interceptor, status mapping, CLI). The
imports are read with `ast`, so nothing is imported or run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "tenki_weather"
SOURCE = Path(__file__).resolve().parents[3] / "services" / "weather" / "src" / PACKAGE

DOMAIN = (
    "service", "cache", "model", "validation", "units", "ratelimit", "errors", "owm", "demo", "provider",
    "postal", "geocoding", "timezones", "shared", "caller_limits", "budget", "forecast",
)
GRPC_LAYER = frozenset({"servicer", "server", "interceptor", "status", "cli", "faults", "tracing"})
# Top-level packages (or dotted prefixes) the domain must not import: gRPC, its add-ons, protobuf, the API.
FORBIDDEN = (
    "grpc", "grpc_status", "grpc_health", "grpc_reflection", "google.rpc", "google.protobuf", "tenki",
)
PROVIDERS = frozenset({"owm", "demo", "provider"})


def imports(source: str) -> set[str]:
    """Every module a module's source imports, absolute; relative ones as `tenki_weather.name`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module)
            elif node.module:  # from .cache import ObservationCache
                found.add(f"{PACKAGE}.{node.module}")
            else:  # from . import cache
                found.update(f"{PACKAGE}.{alias.name}" for alias in node.names)
    return found


def own_module(name: str) -> str | None:
    """`cache` for tenki_weather.cache (and tenki_weather.cache.x); None for other packages."""
    prefix = PACKAGE + "."
    return name[len(prefix):].split(".")[0] if name.startswith(prefix) else None


def module_imports(module: str) -> set[str]:
    return imports((SOURCE / f"{module}.py").read_text(encoding="utf-8"))


def reachable(module: str) -> dict[str, set[str]]:
    """`module` and every tenki_weather module it imports, directly or not, with what each imports."""
    seen: dict[str, set[str]] = {}
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen[current] = module_imports(current)
        todo.extend(own for name in seen[current] if (own := own_module(name)) and own not in seen)
    return seen


def forbidden(name: str) -> bool:
    return any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN)


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_reaches_no_grpc_and_no_grpc_layer_module(module: str) -> None:
    problems = []
    for current, names in sorted(reachable(module).items()):
        if current in GRPC_LAYER:
            problems.append(f"{current} is part of the gRPC layer")
        problems.extend(f"{current} imports {name}" for name in sorted(names) if forbidden(name))
    assert not problems, f"{module}: " + "; ".join(problems)


def test_logging_imports_no_provider() -> None:
    assert not {own_module(name) for name in module_imports("logs")} & PROVIDERS


def test_the_domain_list_names_every_module_that_is_neither_grpc_layer_nor_plumbing() -> None:
    plumbing = {"__init__", "config", "logs", "metrics", "redaction"}
    modules = {path.stem for path in SOURCE.glob("*.py")}
    assert modules - GRPC_LAYER - plumbing == set(DOMAIN)


@pytest.mark.parametrize(
    "source",
    [
        "import grpc",
        "from grpc_status import rpc_status",
        "from google.rpc import status_pb2",
        "from tenki.weather.v1 import weather_pb2",
        "from .status import to_grpc_status",
        "from . import servicer",
        "from tenki_weather.interceptor import CallLog",
    ],
)
def test_the_check_sees_each_way_of_importing_what_is_forbidden(source: str) -> None:
    names = imports(source)
    assert any(forbidden(name) or own_module(name) in GRPC_LAYER for name in names), names
