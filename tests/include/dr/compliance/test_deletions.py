"""The retention-minimum clause judges a deletion by when it really happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from include.dr.compliance import clauses
from include.dr.compliance.facts import deletions
from include.dr.evidence import EvidenceRecord, LocalEvidenceStore


def test_a_deletion_by_a_run_dated_ahead_is_judged_by_the_real_clock(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    completed = now - timedelta(days=3)
    store = LocalEvidenceStore(tmp_path)
    store.write(
        EvidenceRecord(
            "retention",
            "rds/swl-customers-prod@eu-west-1",
            "rds_backup",
            "manual__ahead",
            "pass",
            {
                "status": "done",
                "dry_run": False,
                "measured_from": (now + timedelta(days=30)).isoformat(),
                "plan": [
                    {
                        "backup_id": "snap-3-days-old",
                        "completed_at": completed.isoformat(),
                        "action": "delete",
                        "reason": "older than 7 days",
                    }
                ],
                "deleted": ["snap-3-days-old"],
                "deleted_at": {"snap-3-days-old": now.isoformat()},
            },
        )
    )
    verdict = clauses.early_deletions(deletions(store), 7)
    assert verdict.status == "fail" and "snap-3-days-old" in verdict.text


def test_older_records_without_deletion_times_are_judged_by_when_they_were_recorded(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    store = LocalEvidenceStore(tmp_path)
    store.write(
        EvidenceRecord(
            "retention",
            "s3/swl-uploads",
            "s3_backup",
            "manual__ahead",
            "pass",
            {
                "status": "done",
                "measured_from": (now + timedelta(days=30)).isoformat(),
                "plan": [
                    {
                        "backup_id": "2026-11-26/",
                        "completed_at": (now - timedelta(days=2)).isoformat(),
                        "action": "delete",
                        "reason": "older than 7 days",
                    }
                ],
            },
        )
    )
    assert clauses.early_deletions(deletions(store), 7).status == "fail"


def test_a_backup_s3_refused_to_delete_is_no_deletion_but_a_partly_deleted_one_is(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC)
    old = (now - timedelta(days=30)).isoformat()
    store = LocalEvidenceStore(tmp_path)
    store.write(
        EvidenceRecord(
            "retention",
            "s3/swl-uploads",
            "s3_backup",
            "scheduled__refused",
            "fail",
            {
                "status": "done",
                "plan": [
                    {"backup_id": b, "completed_at": old, "action": "delete", "reason": "old"}
                    for b in ("refused/", "partly/", "gone/")
                ],
                "deleted": ["gone/"],
                "deleted_at": {"gone/": now.isoformat(), "partly/": now.isoformat()},
                "not_deleted": {"refused/": {"reason": "AccessDenied"}, "partly/": {}},
            },
        )
    )
    assert sorted(backup for backup, *_ in deletions(store)) == ["gone/", "partly/"]
