"""The one home of evidence: what each run did, as schema-versioned JSON records.

Every DAG writes its evidence here and the compliance view, the restore test
and the restores read it only through this module. Records live in the shared
store (:func:`include.dr.store.store_root`: ``file://`` on the local stack, S3 in
production), each written once and whole, so every worker and the API server
read the same evidence and a reader never sees half a record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from include.dr.errors import Permanent
from include.dr.store import create_once, store_root

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

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
    ``version_id``).
    Each backup package lists its own (``include/dr/<asset>/recorded.py``)."""

    kind: Literal["snapshot", "object"]
    location: str
    record: EvidenceRecord
    key: str = ""
    version_id: str | None = None

    @property
    def name(self) -> str:
        """How a person finds it: the snapshot id or ``s3://bucket/key``."""
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


class EvidenceStore:
    """Evidence in the shared store: ``<root>/<kind>/<asset>/<dag_id>/<run_id>/<n>.json``.

    Records are written once (:func:`include.dr.store.create_once`). A run's later
    account of the same asset (a retry, the window's completion after its gate) is the
    next number, never a rewrite, and readers take the newest. Two writers that race for
    the same number (one task run twice at once on two workers) get one success and one
    :class:`~include.dr.store.AlreadyWritten` refusal.
    """

    def __init__(self, root: ObjectStoragePath | Path) -> None:
        if isinstance(root, Path):
            from airflow.sdk import ObjectStoragePath

            root = ObjectStoragePath(f"file://{root.resolve()}")
        self.root = root

    def write(self, record: EvidenceRecord) -> ObjectStoragePath:
        """Store ``record`` as its run's next account of the asset; return where it went."""
        folder = self._folder(record.kind, record.asset, record.dag_id, record.run_id)
        numbers = [_number(path) for path in _json_files(folder)]
        path = folder / f"{max(numbers, default=0) + 1:04d}.json"
        create_once(path, record.to_json().encode())
        return path

    def get(self, kind: str, asset: str, dag_id: str, run_id: str) -> EvidenceRecord | None:
        """The newest record one run wrote for one asset, if any."""
        files = _json_files(self._folder(kind, asset, dag_id, run_id))
        return EvidenceRecord.from_json(max(files, key=_number).read_text()) if files else None

    def read(self, kind: str, asset: str | None = None) -> list[EvidenceRecord]:
        """The newest record of each run of ``kind`` (for one asset, if given), oldest first."""
        newest: dict[str, ObjectStoragePath] = {}
        for path in self.files(kind, asset):
            run = str(path.parent)
            if run not in newest or _number(path) > _number(newest[run]):
                newest[run] = path
        records = [EvidenceRecord.from_json(path.read_text()) for path in newest.values()]
        return sorted(records, key=lambda record: record.recorded_at)

    def latest(self, kind: str, asset: str) -> EvidenceRecord | None:
        records = self.read(kind, asset)
        return records[-1] if records else None

    def files(self, kind: str | None = None, asset: str | None = None) -> list[ObjectStoragePath]:
        """Every record file (every try's), of ``kind`` and ``asset`` when given: what an
        archive of the evidence copies byte for byte."""
        base = self.root if kind is None else self.root / _segment(kind)
        if asset is not None:
            base = base / _segment(asset)
        _forget_listings(base)
        if not base.exists():
            return []
        return [path for path in base.rglob("*.json") if _is_record(path)]

    def _folder(self, kind: str, asset: str, dag_id: str, run_id: str) -> ObjectStoragePath:
        return self.root / _segment(kind) / _segment(asset) / _segment(dag_id) / _segment(run_id)


def _json_files(folder: ObjectStoragePath) -> list[ObjectStoragePath]:
    _forget_listings(folder)
    if not folder.exists():
        return []
    return [path for path in folder.iterdir() if _is_record(path)]


def _forget_listings(folder: ObjectStoragePath) -> None:
    """Drop the backend's cached listings under ``folder``: another worker may have written
    since (s3fs caches listings for the life of the process, the API server's included)."""
    folder.fs.invalidate_cache(folder.path)


def _is_record(path: ObjectStoragePath) -> bool:
    """A record's name is its number; temporary files start with a dot."""
    return path.name.endswith(".json") and path.name[:-5].isdigit()


def _number(path: ObjectStoragePath) -> int:
    return int(path.name[:-5])


def _segment(name: str) -> str:
    """A name made safe as one path segment: no separators, no '..'."""
    cleaned = _SAFE.sub("_", name).strip(".")
    if not cleaned:
        raise EvidenceRefused(f"{name!r} cannot name an evidence path segment")
    return cleaned


def evidence_store() -> EvidenceStore:
    """The evidence in the shared store in force (:func:`include.dr.store.store_root`)."""
    return EvidenceStore(store_root() / "evidence")


def record(
    kind: str,
    asset: str,
    dag_id: str,
    run_id: str,
    outcome: Outcome,
    details: Mapping[str, Any],
) -> ObjectStoragePath:
    """Write one run's evidence for one asset to the store in force; return where it went."""
    return evidence_store().write(EvidenceRecord(kind, asset, dag_id, run_id, outcome, details))
