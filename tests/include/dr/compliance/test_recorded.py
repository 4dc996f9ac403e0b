"""Each backup package names the objects its evidence says it wrote; tamper reconciliation
looks for exactly those."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from include.dr.evidence import EvidenceRecord, EvidenceStore
from include.dr.git import recorded as git_recorded
from include.dr.rds import recorded as rds_recorded
from include.dr.s3 import recorded as s3_recorded

AT = datetime(2026, 11, 27, 2, tzinfo=UTC)


def write(store: EvidenceStore, kind: str, asset: str, details: dict[str, Any], **kw: Any) -> None:
    outcome = kw.get("outcome", "pass")
    run = kw.get("run", "scheduled__1")
    store.write(
        EvidenceRecord(kind, asset, kind, run, outcome, details, AT + kw.get("later", timedelta()))
    )


def test_rds_records_name_the_snapshot_copy_dump_and_manifests(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    folder = "rds/db/2026-11-27/"
    details = {
        "dr_bucket": "swl-dr",
        "copy": {"id": "db-2026-11-27"},
        "dump": {
            "key": f"{folder}customers.sql.gz",
            "version_id": "v1",
            "manifest": {"key": f"{folder}manifest.json", "version_id": "v2"},
        },
        "snapshot_manifest": {"key": f"{folder}snapshot-manifest.json"},
    }
    write(store, "rds_backup", "rds/db", details)
    write(store, "rds_backup", "rds/db", {"copy": {"id": "failed"}}, outcome="fail", run="r2")
    # A run from before the dump had a manifest of its own moment recorded one manifest.
    older = {"dr_bucket": "swl-dr", "manifest": {"key": "rds/db/2026-11-20/manifest.json"}}
    write(store, "rds_backup", "rds/db", older, run="r0", later=-timedelta(days=7))
    found = rds_recorded.written_objects(store)
    assert [(w.kind, w.name, w.version_id) for w in found] == [
        ("object", "s3://swl-dr/rds/db/2026-11-20/manifest.json", None),
        ("snapshot", "db-2026-11-27", None),
        ("object", f"s3://swl-dr/{folder}customers.sql.gz", "v1"),
        ("object", f"s3://swl-dr/{folder}manifest.json", "v2"),
        ("object", f"s3://swl-dr/{folder}snapshot-manifest.json", None),
    ]


def test_s3_records_name_each_run_s_manifests_and_summary(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    folder = ".backup/manifests/uploads/2026-11-27/20261127T010000Z-ab12cd34/"
    details = {
        "dr_bucket": "swl-dr-uploads",
        "source": "uploads",
        "day": "2026-11-27",
        "manifests": [f"{folder}part-0.jsonl.gz"],
        "summary_key": f"{folder}run.json",
    }
    write(store, "s3_backup", "s3/uploads", details)
    names = [w.name for w in s3_recorded.written_objects(store)]
    assert names == [
        f"s3://swl-dr-uploads/{folder}part-0.jsonl.gz",
        f"s3://swl-dr-uploads/{folder}run.json",
    ]
    [run] = s3_recorded.recorded_runs(store)
    assert (run.bucket, run.folder) == ("swl-dr-uploads", folder)


def test_git_records_name_the_bundle_of_record_not_a_cache_nor_an_empty_repository(
    tmp_path: Path,
) -> None:
    store = EvidenceStore(tmp_path / "evidence")
    bundled = {
        "verdict": "bundled",
        "bundle": {"day": "2026-11-27"},
        "dr_copy": {
            "bucket": "swl-dr-git",
            "key": "git/o/web/2026-11-27/web.bundle.enc",
            "version_id": "v9",
        },
    }
    write(store, "git_backup", "git/o/web", bundled)
    write(store, "git_backup", "git/o/empty", {"verdict": "empty", "refs": {}})
    found = git_recorded.written_objects(store)
    assert [(w.kind, w.name, w.version_id) for w in found] == [
        ("object", "s3://swl-dr-git/git/o/web/2026-11-27/web.bundle.enc", "v9"),
    ]
