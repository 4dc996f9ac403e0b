"""Every error the S3 area raises says whether to retry it: each ``raise`` names a
Permanent or Transient subclass (or re-raises what it caught)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from include.dr.errors import Permanent, Transient
from include.dr.project import PROJECT_ROOT

AREA = [
    *sorted((PROJECT_ROOT / "include" / "dr" / "s3").glob("*.py")),
    PROJECT_ROOT / "include" / "dr" / "inventory" / "__init__.py",
    PROJECT_ROOT / "include" / "dr" / "inventory" / "dated_folders.py",
]
CLASSIFIER = {"from_client_error"}  # returns a Permanent or a Transient


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


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", AREA, ids=lambda path: path.name)
def test_every_error_raised_in_the_s3_area_is_permanent_or_transient(path: Path) -> None:
    module = importlib.import_module(module_name(path))
    unclassified = []
    for name, line in raised_names(path):
        if name in CLASSIFIER:
            continue
        found = getattr(module, name, None)
        if not (isinstance(found, type) and issubclass(found, Permanent | Transient)):
            unclassified.append(f"{path.name}:{line} raises {name}")
    assert unclassified == []
