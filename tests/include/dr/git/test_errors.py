"""Every error the git area raises says whether to retry it: each ``raise`` names a
Permanent or Transient subclass (or re-raises what it caught)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from include.dr.errors import Permanent, Transient
from include.dr.project import PROJECT_ROOT

GIT_AREA = sorted((PROJECT_ROOT / "include" / "dr" / "git").glob("*.py"))
# Raised by name but built elsewhere: a classifier's result, or a class chosen at run time.
DYNAMIC = {"git_error", "kind"}


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


def test_every_error_raised_in_the_git_area_is_permanent_or_transient() -> None:
    from include.dr import restores

    unclassified = []
    for path in GIT_AREA:
        module = importlib.import_module(f"include.dr.git.{path.stem}")
        for name, line in raised_names(path):
            if name in DYNAMIC or name in {"exc", "error"}:
                continue
            found = getattr(module, name, None)
            found = found or getattr(module, "crypto", None) and getattr(module.crypto, name, None)
            found = found or getattr(restores, name, None)
            if not (isinstance(found, type) and issubclass(found, Permanent | Transient)):
                unclassified.append(f"{path.name}:{line} raises {name}")
    assert unclassified == []
