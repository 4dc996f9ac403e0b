"""Evidence records: written whole, read back the same, and never carrying a secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.dr.evidence import EvidenceRecord, EvidenceStore


def record(
    run_id: str = "scheduled__2026-11-27T01:00:00+00:00", **details: object
) -> EvidenceRecord:
    return EvidenceRecord(
        kind="rds_snapshot",
        asset="rds/swl-customers-prod",
        dag_id="rds_backup",
        run_id=run_id,
        outcome="pass",
        details=details or {"snapshot_id": "swl-customers-prod-2026-11-27", "size_gb": 20},
    )


def test_record_reads_back_as_written(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    written = record()
    store.write(written)
    assert store.read("rds_snapshot") == [written]
    assert store.latest("rds_snapshot", "rds/swl-customers-prod") == written


def test_retry_of_a_run_replaces_its_record_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    store.write(record(attempt=1))
    path = store.write(record(attempt=2))
    assert [r.details["attempt"] for r in store.read("rds_snapshot")] == [2]
    assert not list(path.parent.glob("*.tmp"))


def test_records_are_schema_versioned_json(tmp_path: Path) -> None:
    path = EvidenceStore(tmp_path).write(record())
    body = json.loads(path.read_text())
    assert body["schema_version"] == 1 and body["details"]["size_gb"] == 20


def test_a_newer_schema_is_refused_with_advice(tmp_path: Path) -> None:
    path = EvidenceStore(tmp_path).write(record())
    path.write_text(path.read_text().replace('"schema_version": 1', '"schema_version": 2'))
    with pytest.raises(ValueError, match="read it with the release that wrote it"):
        EvidenceStore(tmp_path).read("rds_snapshot")


@pytest.mark.parametrize(
    "name", ["password", "aws_secret_access_key", "github_token", "PrivateKey"]
)
def test_secret_looking_fields_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="looks like a secret"):
        EvidenceStore(tmp_path).write(record(nested={"list": [{name: "x"}]}))


def test_hostile_names_stay_inside_the_store(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "store")
    path = store.write(record(run_id="../../../etc/passwd"))
    assert Path(path.path).resolve().is_relative_to((tmp_path / "store").resolve())
