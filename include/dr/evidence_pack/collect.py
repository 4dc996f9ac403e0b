"""What a pack is made of, read from the shared store: every evidence record of the
period, byte for byte as stored, and the restore-test reports those records name.

A record belongs to the period when it was recorded between the first day's midnight
and the midnight after the last day, in the policy's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from include.dr.evidence import EvidenceRecord, EvidenceRefused, EvidenceStore
from include.dr.evidence_pack.stored import EVIDENCE_KIND
from include.dr.restore_test.report import REPORT_FILE
from include.dr.restore_test.report import STORE_FOLDER as REPORTS

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

EVIDENCE = "evidence"


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    timezone: str

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        zone = ZoneInfo(self.timezone)
        return (
            datetime.combine(self.start, time(), zone),
            datetime.combine(self.end + timedelta(days=1), time(), zone),
        )

    def holds(self, moment: datetime) -> bool:
        first, after = self.bounds
        return first <= moment < after

    def as_dict(self) -> dict[str, str]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "timezone": self.timezone,
        }


@dataclass(frozen=True)
class StoredRecord:
    """One record file: its path in the store (and in the pack), its bytes, and the record."""

    path: str
    raw: bytes
    record: EvidenceRecord


def _relative(path: Any, root: Any) -> str:
    return str(path.path)[len(str(root.path)) :].lstrip("/")


def records_in(root: ObjectStoragePath, period: Period) -> tuple[list[StoredRecord], list[str]]:
    """Every record file of the period (every try's, oldest first), and the files that
    could not be read as records (named, never silently left out)."""
    found: list[StoredRecord] = []
    unreadable: list[str] = []
    for path in EvidenceStore(root / EVIDENCE).files():
        relative = _relative(path, root)
        if relative.split("/")[1] == EVIDENCE_KIND:
            continue
        raw = path.read_bytes()
        try:
            record = EvidenceRecord.from_json(raw.decode())
        except (EvidenceRefused, ValueError, KeyError, TypeError):
            unreadable.append(relative)
            continue
        if period.holds(record.recorded_at):
            found.append(StoredRecord(relative, raw, record))
    return sorted(found, key=lambda r: (r.record.recorded_at, r.path)), sorted(unreadable)


def newest_per_run(records: list[StoredRecord]) -> list[StoredRecord]:
    """A run's latest account of each asset (a retry's, the window's completion after its
    gate), as the evidence store's readers take it."""
    newest: dict[str, StoredRecord] = {}
    for stored in records:
        folder, _, number = stored.path.rpartition("/")
        held = newest.get(folder)
        if held is None or int(number[:-5]) > int(held.path.rpartition("/")[2][:-5]):
            newest[folder] = stored
    return sorted(newest.values(), key=lambda r: (r.record.recorded_at, r.path))


def report_names(record: EvidenceRecord) -> list[str]:
    """The report files a restore-test record names (HTML and JSON)."""
    where = record.details.get("report") or {}
    names = [str(where.get(kind, "")).rsplit("/", 1)[-1] for kind in ("html", "json")]
    return [name for name in names if REPORT_FILE.fullmatch(name)]


def reports_for(root: ObjectStoragePath, records: list[StoredRecord]) -> dict[str, bytes | None]:
    """``reports/restore-test/<name>`` -> its bytes (None when the store lacks it) for
    every report the period's restore tests name."""
    found: dict[str, bytes | None] = {}
    for stored in records:
        if stored.record.kind != "restore_test":
            continue
        for name in report_names(stored.record):
            path = root / REPORTS / name
            found[f"{REPORTS}/{name}"] = path.read_bytes() if path.is_file() else None
    return found
