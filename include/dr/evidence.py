"""The one home of evidence: what each run did, as schema-versioned JSON records.

Every DAG writes its evidence here and the compliance view, the restore test
and the restores read it only through this module. On the local stack the
store is a folder (:func:`include.dr.store.evidence_dir`); a record is written to a temporary
file and renamed, so a reader never sees half a record.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from include.dr.errors import Permanent
from include.dr.store import evidence_dir

SCHEMA_VERSION = 1
Outcome = Literal["pass", "warn", "fail"]

_SAFE = re.compile(r"[^A-Za-z0-9._=-]+")
# Field names that must never carry a value into evidence.
_SECRET_NAMES = re.compile(r"(password|secret|token|private[_-]?key|credential)", re.IGNORECASE)


class EvidenceRefused(Permanent, ValueError):
    """A record that must not be written or read: a secret in it, a name that is no path
    segment, a schema this code does not know."""


@dataclass(frozen=True)
class EvidenceRecord:
    """One run's account of one asset: what was done, with ids, sizes, digests and times."""

    kind: str
    asset: str
    dag_id: str
    run_id: str
    outcome: Outcome
    details: Mapping[str, Any]
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> str:
        body = asdict(self)
        body["recorded_at"] = self.recorded_at.isoformat()
        _refuse_secrets(body["details"], "details")
        return json.dumps(body, indent=2, sort_keys=True, default=str)

    @classmethod
    def from_json(cls, text: str) -> EvidenceRecord:
        body = json.loads(text)
        if body.get("schema_version") != SCHEMA_VERSION:
            raise EvidenceRefused(
                f"evidence schema_version {body.get('schema_version')!r} is not "
                f"{SCHEMA_VERSION}; read it with the release that wrote it"
            )
        body["recorded_at"] = datetime.fromisoformat(body["recorded_at"])
        return cls(**body)


@dataclass(frozen=True)
class WrittenObject:
    """One thing a backup run's evidence says it wrote, as tamper reconciliation looks for it:
    a DR snapshot copy (``snapshot``: ``location`` is its id), an object in a DR bucket
    (``object``: ``location`` is the bucket, with ``key`` and, where recorded, its
    ``version_id``) or a file in the local backup store (``file``: ``location`` is its path).
    Each backup package lists its own (``include/dr/<asset>/recorded.py``)."""

    kind: Literal["snapshot", "object", "file"]
    location: str
    record: EvidenceRecord
    key: str = ""
    version_id: str | None = None

    @property
    def name(self) -> str:
        """How a person finds it: the snapshot id, ``s3://bucket/key`` or the file's path."""
        return f"s3://{self.location}/{self.key}" if self.kind == "object" else self.location


def _refuse_secrets(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if _SECRET_NAMES.search(str(key)):
                raise EvidenceRefused(
                    f"evidence field {where}.{key} looks like a secret; leave it out"
                )
            _refuse_secrets(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_secrets(item, f"{where}[{index}]")


class LocalEvidenceStore:
    """Evidence as files: ``<root>/<kind>/<asset>/<dag_id>/<run_id>.json``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, record: EvidenceRecord) -> Path:
        """Store ``record``; a retry of the same run replaces its earlier record."""
        path = self._path(record.kind, record.asset, record.dag_id, record.run_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            handle.write(record.to_json())
            temporary = Path(handle.name)
        os.replace(temporary, path)
        return path

    def get(self, kind: str, asset: str, dag_id: str, run_id: str) -> EvidenceRecord | None:
        """The record one run wrote for one asset, if any."""
        path = self._path(kind, asset, dag_id, run_id)
        return EvidenceRecord.from_json(path.read_text()) if path.exists() else None

    def read(self, kind: str, asset: str | None = None) -> list[EvidenceRecord]:
        """Every record of ``kind`` (for one asset, if given), oldest first."""
        records = [EvidenceRecord.from_json(path.read_text()) for path in self._files(kind, asset)]
        return sorted(records, key=lambda record: record.recorded_at)

    def latest(self, kind: str, asset: str) -> EvidenceRecord | None:
        records = self.read(kind, asset)
        return records[-1] if records else None

    def _files(self, kind: str, asset: str | None) -> Iterator[Path]:
        base = self.root / _segment(kind)
        if asset is not None:
            base = base / _segment(asset)
        return base.glob("**/*.json") if base.is_dir() else iter(())

    def _path(self, kind: str, asset: str, dag_id: str, run_id: str) -> Path:
        return (
            self.root
            / _segment(kind)
            / _segment(asset)
            / _segment(dag_id)
            / f"{_segment(run_id)}.json"
        )


def _segment(name: str) -> str:
    """A name made safe as one path segment: no separators, no '..'."""
    cleaned = _SAFE.sub("_", name).strip(".")
    if not cleaned:
        raise EvidenceRefused(f"{name!r} cannot name an evidence path segment")
    return cleaned


def evidence_store() -> LocalEvidenceStore:
    """The store in force, at :func:`include.dr.store.evidence_dir`."""
    return LocalEvidenceStore(evidence_dir())


def record(
    kind: str,
    asset: str,
    dag_id: str,
    run_id: str,
    outcome: Outcome,
    details: Mapping[str, Any],
) -> Path:
    """Write one run's evidence for one asset to the store in force; return where it went."""
    return evidence_store().write(EvidenceRecord(kind, asset, dag_id, run_id, outcome, details))
