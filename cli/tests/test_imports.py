"""What a process imports at start, and what it imports later (issue 17).

A service imports some modules only when it first needs them (Alembic when a
migration is pending, the OTLP exporter when it is configured, the organisation
dataset in the loader…), to keep each process's memory down. Such an import
must not turn a missing or broken module into an error on the first request in
production: the first test imports every module imported inside a function
anywhere in the platform's code, as the code names it. The second keeps the
deferred ones deferred: a service process that only starts does not load them.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p
    for pattern in ("services/*/src", "libs/*/src", "cli/src", "examples/*/src")
    for p in ROOT.glob(pattern)
]


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def deferred_imports() -> dict[tuple[str, str | None], str]:
    """(module, name imported from it or None) -> where: every import inside a
    function body of the platform's code (not under ``TYPE_CHECKING``)."""
    found: dict[tuple[str, str | None], str] = {}

    def visit(node: ast.AST, where: str, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _type_checking(child):
                continue
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if in_function and isinstance(child, ast.Import):
                for alias in child.names:
                    found.setdefault((alias.name, None), f"{where}:{child.lineno}")
            elif in_function and isinstance(child, ast.ImportFrom) and child.level == 0:
                assert child.module is not None
                for alias in child.names:
                    found.setdefault((child.module, alias.name), f"{where}:{child.lineno}")
            visit(child, where, nested)

    for source in SOURCES:
        for path in source.rglob("*.py"):
            if "migrations" in path.parts:  # Alembic's env.py and versions, run by Alembic
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            visit(tree, str(path.relative_to(ROOT)), False)
    return found


def test_every_deferred_import_resolves() -> None:
    deferred = deferred_imports()
    # The ones this issue defers are among them (the scan finds what it should).
    assert ("alembic", "command") in deferred
    assert ("opentelemetry.exporter.otlp.proto.http.trace_exporter", "OTLPSpanExporter") in deferred
    broken = []
    for (module, name), where in sorted(deferred.items(), key=lambda item: item[1]):
        try:
            imported = importlib.import_module(module)
            if name is not None and name != "*" and not hasattr(imported, name):
                importlib.import_module(f"{module}.{name}")  # a submodule
        except Exception as error:  # every failure is reported, not only the first
            broken.append(f"{where}: {module} {name or ''}: {error!r}")
    assert broken == []


# Modules a service process never needs unless it does that particular thing.
DEFERRED = (
    "alembic",  # only when a migration is pending
    "opentelemetry.exporter",  # only when EPROC_TRACE_EXPORTER=otlp:…
    "eproc_org_dataset",  # only in the organisation loader
)


SERVICES = ("identity", "organisations", "requests", "notifier", "edge", "eid_gateway", "portal")


def test_starting_services_do_not_load_what_they_defer() -> None:
    # A fresh interpreter builds every service's app, as its process in the stack does
    # (one interpreter for all seven: what none of them loads, no one of them does).
    code = "\n".join(
        [
            "import json, sys, warnings",
            "warnings.simplefilter('ignore')",
            *(f"from eproc_{s}.main import create_app as {s}; {s}()" for s in SERVICES),
            "print(json.dumps(sorted(sys.modules)))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert {f"eproc_{s}.main" for s in SERVICES} <= set(loaded)  # it did build the apps
    assert [m for m in loaded if any(m == d or m.startswith(d + ".") for d in DEFERRED)] == []
