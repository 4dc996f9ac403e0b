"""Reading the policy file, and refusing a bad one with errors a person can act on.

Every DAG file loads the policy when it is parsed, so a bad file must fail in
milliseconds with a short message, whatever is in it. The file is refused in
stages, each before the next costs anything:

1. over :data:`MAX_BYTES`, before it is parsed;
2. not UTF-8, before it is parsed;
3. screened as a stream of YAML events, without building any value and without
   recursion: anchors and aliases (the "billion laughs" bomb), merge keys,
   duplicate keys, nesting deeper than :data:`MAX_DEPTH` and more than
   :data:`MAX_VALUES` values are refused with the field's path and line;
4. only then built into Python values and checked against the strict model.

Every message quotes at most a short excerpt of a bad value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from include.dr.errors import Permanent
from include.dr.policy.model import BackupPolicy, excerpt

DEFAULT_POLICY_FILE = Path(__file__).resolve().parents[2] / "policy.yaml"
POLICY_FILE_ENV = "BACKUP_POLICY_FILE"

MAX_BYTES = 1024 * 1024  # the shipped policy is under 4 KiB
MAX_DEPTH = 16  # the shipped policy nests 6 levels deep
MAX_VALUES = 20_000  # the shipped policy holds about 100 values
MAX_PROBLEMS = 5  # problems listed in one message; the rest are counted
MAX_YAML_ERROR = 300  # characters of a YAML parser's message

# libyaml when it is there (about 50 times faster); the pure-Python loader otherwise.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class PolicyError(Permanent, ValueError):
    """The policy file cannot be used; the message names the file, the field and the fix."""


def policy_path() -> Path:
    """The policy file in force: ``$BACKUP_POLICY_FILE`` or the one shipped in ``include/``."""
    return Path(os.environ.get(POLICY_FILE_ENV) or DEFAULT_POLICY_FILE)


def load_policy(path: Path | str | None = None) -> BackupPolicy:
    """Load and validate the policy file; raise :class:`PolicyError` listing every problem."""
    file = Path(path) if path is not None else policy_path()
    text = _decode(file, _read(file))
    _screen(file, text)
    try:
        data = _construct(text)
    except yaml.YAMLError as exc:
        raise PolicyError(_yaml_problem(file, exc)) from None
    if not isinstance(data, dict):
        raise PolicyError(
            f"{file}: must be a YAML mapping of policy sections (schema_version, company, ...), "
            f"found {excerpt(data)}"
        )
    try:
        return BackupPolicy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_describe(file, exc)) from None


def _read(file: Path) -> bytes:
    """The file's bytes; a file over the cap is refused having read no more than the cap."""
    try:
        with file.open("rb") as stream:
            content = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise PolicyError(
            f"{file}: cannot read the policy file ({exc.strerror}); "
            f"check the path or set {POLICY_FILE_ENV}"
        ) from None
    if len(content) > MAX_BYTES:
        raise PolicyError(
            f"{file}: the policy file is larger than the 1 MiB cap ({MAX_BYTES} bytes), so it "
            "was not parsed; a policy is a few KiB, so look for a pasted blob or a runaway "
            "comment and remove it"
        )
    return content


def _decode(file: Path, content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise PolicyError(f"{file}: the policy file is UTF-16; save it as UTF-8")
    try:
        return content.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = content.count(b"\n", 0, exc.start) + 1
        raise PolicyError(
            f"{file}: the policy file is not UTF-8: byte 0x{content[exc.start]:02x} at line "
            f"{line} (offset {exc.start}) cannot be decoded; save it as UTF-8"
        ) from None


@dataclass
class _Collection:
    """A mapping or sequence being screened: its path, and the keys seen so far."""

    path: str
    is_mapping: bool
    keys: dict[str, int | str] = field(default_factory=dict)  # key -> line
    key: str | None = None  # the key whose value comes next; None while a key is expected
    index: int = 0

    def next_path(self) -> str:
        """The path of the next node inside: the value's, or the mapping's own for a key."""
        if not self.is_mapping:
            return f"{self.path}[{self.index}]"
        if self.key is None:
            return self.path
        label = excerpt(self.key, 40, quote=False)
        return f"{self.path}.{label}" if self.path else label

    def done(self) -> None:
        """A child value is complete."""
        if self.is_mapping:
            self.key = None
        else:
            self.index += 1


def _screen(file: Path, text: str) -> None:
    """Refuse what would make building the document expensive or ambiguous, from the YAML
    event stream alone: no value is built and nothing recurses."""
    open_: list[_Collection] = []
    values = 0
    too_deep = (
        f"is nested more than {MAX_DEPTH} levels deep; "
        "the policy needs at most a few levels, so flatten it"
    )

    def refuse(event: Any, path: str, problem: str) -> PolicyError:
        field = excerpt(path, 120, quote=False) or "(whole file)"
        return PolicyError(f"{file}: {field} (line {_line(event.start_mark)}): {problem}")

    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.CollectionEndEvent):
                open_.pop()
                if open_:
                    open_[-1].done()
                continue
            if not isinstance(event, yaml.NodeEvent):
                continue
            parent = open_[-1] if open_ else None
            path = parent.next_path() if parent else ""
            if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
                name = excerpt(event.anchor, 40, quote=False)
                raise refuse(
                    event,
                    path,
                    f"uses the YAML anchor or alias {name!r}; anchors (&) and aliases (*) are "
                    "not allowed in the policy file, so write the value out in full",
                )
            values += 1
            if values > MAX_VALUES:
                raise refuse(
                    event,
                    path,
                    f"the policy file holds more than {MAX_VALUES} values; "
                    "a policy needs far fewer, so remove what was pasted in by mistake",
                )
            if parent is not None and parent.is_mapping and parent.key is None:
                if not isinstance(event, yaml.ScalarEvent):
                    raise refuse(event, path, "a key must be a plain name, not a list or mapping")
                key, line = event.value, _line(event.start_mark)
                label = excerpt(key, 40, quote=False)
                where = excerpt(f"{path}.{label}" if path else label, 120, quote=False)
                if key == "<<" and event.tag is None and event.implicit[0]:
                    raise refuse(
                        event, path, "uses a YAML merge key (<<); write the fields out in full"
                    )
                if key in parent.keys:
                    raise PolicyError(
                        f"{file}: {where} is written twice, at line {parent.keys[key]} and "
                        f"line {line}; YAML would silently keep only the last one, so keep one "
                        "and merge the two"
                    )
                parent.keys[key] = line
                parent.key = key
                continue
            if isinstance(event, yaml.ScalarEvent):
                if parent is not None:
                    parent.done()
                continue
            if len(open_) >= MAX_DEPTH:
                raise refuse(event, path, too_deep)
            open_.append(_Collection(path, isinstance(event, yaml.MappingStartEvent)))
    except yaml.YAMLError as exc:
        if "nesting depth" not in str(exc):
            raise PolicyError(_yaml_problem(file, exc)) from None
        # libyaml's own limit, met while it scans ahead of the events screened here.
        path = open_[-1].next_path() if open_ else ""
        field = excerpt(path, 120, quote=False) or "(whole file)"
        line = _line(getattr(exc, "problem_mark", None))
        raise PolicyError(f"{file}: {field} (line {line}): {too_deep}") from None


def _line(mark: Any) -> int | str:
    return mark.line + 1 if mark is not None else "?"


def _construct(text: str) -> Any:
    """Build Python values from a screened document (no aliases, shallow, bounded)."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader


def _yaml_problem(file: Path, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    detail = f"{context}, {problem}" if context else str(problem)
    return f"{file}: not valid YAML{where}: {detail[:MAX_YAML_ERROR]}"


def _describe(file: Path, exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        field_ = excerpt(_dotted(error["loc"]), 120, quote=False) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        kind = error["type"]
        if kind == "missing":
            message = "is required but missing; add it (see include/policy.yaml for an example)"
        elif kind in {"greater_than_equal", "less_than_equal", "literal_error"} or (
            kind.endswith("_type") or kind.endswith("_parsing")
        ):
            found = error.get("input")
            message = f"{message}; found {excerpt(found)}{_yaml_kind(found)}"
            hint = _field_description(error["loc"])
            if hint:
                message = f"{message}. {hint}"
        problems.append(f"  {field_}: {excerpt(message, 300, quote=False)}")
    count = len(problems)
    if count > MAX_PROBLEMS:
        problems = [*problems[:MAX_PROBLEMS], f"  ... and {count - MAX_PROBLEMS} more"]
    heading = f"{file}: {count} problem{'s' if count > 1 else ''} in the backup policy"
    return "\n".join([heading, *problems])


def _yaml_kind(value: Any) -> str:
    """What YAML made of the value, so a person sees why it is the wrong type."""
    if isinstance(value, bool):
        return " (YAML reads true/false/yes/no/on/off as a flag)"
    if isinstance(value, str):
        return " (quoted text; write a number or flag without quotes)"
    if isinstance(value, float):
        return " (a decimal number)"
    return ""


def _field_description(loc: tuple[Any, ...]) -> str | None:
    """The field's own description, which says what the written policy allows."""
    model: type[BaseModel] | None = BackupPolicy
    description = None
    for part in loc:
        if isinstance(part, int):
            continue
        found = model.model_fields.get(str(part)) if model else None
        if found is None:
            return None
        description = found.description
        model = _nested_model(found.annotation)
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
