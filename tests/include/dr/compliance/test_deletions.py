"""The retention-minimum clause judges a deletion by when it really happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from include.dr.compliance import clauses
from include.dr.compliance.facts import deletions
from include.dr.evidence import EvidenceRecord, EvidenceStore

NOW = datetime.now(UTC)


def retention_record(
    tmp_path: Path, completed: timedelta, backups: list[str], **details: Any
) -> EvidenceStore:
    """A store holding one finished retention run that planned to delete ``backups``, each
    completed ``completed`` before now, measured from a logical date 30 days ahead."""
    store = EvidenceStore(tmp_path)
    plan = [
        {
            "backup_id": backup,
            "completed_at": (NOW - completed).isoformat(),
            "action": "delete",
            "reason": "older than 7 days",
        }
        for backup in backups
    ]
    store.write(
        EvidenceRecord(
            "retention",
            "s3/swl-uploads",
            "s3_backup",
            "manual__ahead",
            "pass",
            {
                "status": "done",
                "measured_from": (NOW + timedelta(days=30)).isoformat(),
                "plan": plan,
                **details,
            },
        )
    )
    return store


def test_a_deletion_by_a_run_dated_ahead_is_judged_by_the_real_clock(tmp_path: Path) -> None:
    store = retention_record(
        tmp_path,
        timedelta(days=3),
        ["snap-3-days-old"],
        deleted=["snap-3-days-old"],
        deleted_at={"snap-3-days-old": NOW.isoformat()},
    )
    verdict = clauses.early_deletions(deletions(store), 7)
    assert verdict.status == "fail" and "snap-3-days-old" in verdict.text


def test_older_records_without_deletion_times_are_judged_by_when_they_were_recorded(
    tmp_path: Path,
) -> None:
    store = retention_record(tmp_path, timedelta(days=2), ["2026-11-26/"])
    assert clauses.early_deletions(deletions(store), 7).status == "fail"


def test_a_backup_s3_refused_to_delete_is_no_deletion_but_a_partly_deleted_one_is(
    tmp_path: Path,
) -> None:
    store = retention_record(
        tmp_path,
        timedelta(days=30),
        ["refused/", "partly/", "gone/"],
        deleted=["gone/"],
        deleted_at={"gone/": NOW.isoformat(), "partly/": NOW.isoformat()},
        not_deleted={"refused/": {"reason": "AccessDenied"}, "partly/": {}},
    )
    assert sorted(backup for backup, *_ in deletions(store)) == ["gone/", "partly/"]
