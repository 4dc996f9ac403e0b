"""Every error the product raises says whether to retry it: each ``raise`` in
``include/dr`` names a Permanent or Transient subclass, or re-raises what it caught."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from include.dr.errors import Permanent, Transient
from include.dr.project import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "include" / "dr"
# Modules that speak Airflow's or pydantic's language by design, each for its reason.
OUTSIDE_THE_TREE = {
    "local_stack": "developer tooling for the demo and the tests, never run by a task",
    "policy/model.py": "pydantic validators must raise ValueError; the loader makes it a PolicyError",
    "task_boundary.py": "the one place that maps the tree to Airflow's exceptions",
    "timetables.py": "Airflow answers a ValueError from a timetable with a 400 to the trigger",
}
# Raised by name but built elsewhere: a classifier's result, a class chosen at run time,
# a caught error re-raised, an abstract method, or the refuse() helpers (restores.refuse
# raises RestoreRefused; the policy loader's returns a PolicyError: both Permanent).
DYNAMIC = {
    "from_client_error",
    "git_error",
    "kind",
    "item",
    "mapped",
    "busy",
    "push_failure",
    "_connection_error",  # validation's classifier: ValidationRefused or ValidationUnreachable
    "error",  # a listing thread's error, re-raised to the reader
    "refused",
    "refuse",
    "NotImplementedError",
}


def product_modules() -> list[Path]:
    return [
        path
        for path in sorted(PACKAGE.rglob("*.py"))
        if not any(str(path.relative_to(PACKAGE)).startswith(skip) for skip in OUTSIDE_THE_TREE)
    ]


def raised_names(path: Path) -> list[tuple[str, int]]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Raise) and node.exc is not None:
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name):
                names.append((target.id, node.lineno))
            elif isinstance(target, ast.Attribute):
                names.append((target.attr, node.lineno))
    return names


def module_of(path: Path) -> object:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


def classes_by_name() -> dict[str, type]:
    """Every exception class the product defines, for names imported inside a function."""
    found: dict[str, type] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for value in vars(module_of(path)).values():
            if isinstance(value, type) and issubclass(value, BaseException):
                found.setdefault(value.__name__, value)
    return found


@pytest.mark.parametrize("path", product_modules(), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_every_error_raised_is_permanent_or_transient(path: Path) -> None:
    module = module_of(path)
    known = classes_by_name()
    unclassified = []
    for name, line in raised_names(path):
        if name in DYNAMIC:
            continue
        found = getattr(module, name, None) or known.get(name)
        if not (isinstance(found, type) and issubclass(found, Permanent | Transient)):
            unclassified.append(f"{path.name}:{line} raises {name}")
    assert unclassified == []


def test_the_walk_sees_every_area() -> None:
    areas = {path.relative_to(PACKAGE).parts[0] for path in product_modules()}
    assert {"rds", "s3", "git", "restore_test", "compliance", "operators", "policy"} <= areas
