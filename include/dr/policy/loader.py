"""Reading the policy file, and refusing a bad one with errors a person can act on."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from include.dr.policy.model import BackupPolicy

DEFAULT_POLICY_FILE = Path(__file__).resolve().parents[2] / "policy.yaml"
POLICY_FILE_ENV = "BACKUP_POLICY_FILE"


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the file, the field and the fix."""


def policy_path() -> Path:
    """The policy file in force: ``$BACKUP_POLICY_FILE`` or the one shipped in ``include/``."""
    return Path(os.environ.get(POLICY_FILE_ENV) or DEFAULT_POLICY_FILE)


def load_policy(path: Path | str | None = None) -> BackupPolicy:
    """Load and validate the policy file; raise :class:`PolicyError` listing every problem."""
    file = Path(path) if path is not None else policy_path()
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(
            f"{file}: cannot read the policy file ({exc.strerror}); "
            f"check the path or set {POLICY_FILE_ENV}"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PolicyError(f"{file}: not valid YAML{where}: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{file}: must be a YAML mapping of policy sections, found {data!r}")
    try:
        return BackupPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(file, exc)) from None


def _describe(file: Path, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        field = _dotted(error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required but missing; add it (see include/policy.yaml for an example)"
        elif error["type"] in {"greater_than_equal", "less_than_equal", "literal_error"}:
            message = f"{message}; found {error.get('input')!r}"
            hint = _field_description(error["loc"])
            if hint:
                message = f"{message}. {hint}"
        problems.append(f"  {field}: {message}")
    count = len(problems)
    heading = f"{file}: {count} problem{'s' if count > 1 else ''} in the backup policy"
    return "\n".join([heading, *problems])


def _field_description(loc: tuple[Any, ...]) -> str | None:
    """The field's own description, which says what the written policy allows."""
    model: type[BaseModel] | None = BackupPolicy
    description = None
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part)) if model else None
        if field is None:
            return None
        description = field.description
        model = _nested_model(field.annotation)
    return description


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _nested_model(argument)
        if found:
            return found
    return None


def _dotted(loc: tuple[Any, ...]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
