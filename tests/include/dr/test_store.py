"""The shared store: written once, whole, by one writer; the same on a folder and on S3."""

from __future__ import annotations

import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from include.dr.evidence import EvidenceRecord, EvidenceStore
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.store import AlreadyWritten, create_once, store_root


def record(attempt: int) -> EvidenceRecord:
    return EvidenceRecord(
        "git_backup", "git/o/web", "git_backup", "manual__1", "pass", {"attempt": attempt}
    )


def test_the_store_defaults_to_a_folder_under_local_and_follows_its_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKUP_STORE_URL", raising=False)
    assert store_root().protocol == "file" and store_root().path.endswith("/.local/store")
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path}")
    assert store_root().path == str(tmp_path)


def test_a_second_write_of_one_object_is_refused_and_the_first_kept(tmp_path: Path) -> None:
    root = EvidenceStore(tmp_path).root
    create_once(root / "report.json", b"first")
    with pytest.raises(AlreadyWritten, match="was not overwritten"):
        create_once(root / "report.json", b"second")
    assert (tmp_path / "report.json").read_bytes() == b"first"
    assert sorted(os.listdir(tmp_path)) == ["report.json"]  # no temporary file left


def test_of_many_racing_writers_exactly_one_succeeds(tmp_path: Path) -> None:
    root = EvidenceStore(tmp_path).root

    def write(n: int) -> bool:
        try:
            create_once(root / "one.json", str(n).encode())
        except AlreadyWritten:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(write, range(32)))
    assert won.count(True) == 1
    assert (tmp_path / "one.json").read_text() == str(won.index(True))


def test_later_accounts_of_a_run_are_kept_beside_the_first_and_the_newest_is_read(
    tmp_path: Path,
) -> None:
    store = EvidenceStore(tmp_path)
    first, second = store.write(record(1)), store.write(record(2))
    assert (first.name, second.name) == ("0001.json", "0002.json")
    found = store.get("git_backup", "git/o/web", "git_backup", "manual__1")
    assert found is not None and found.details["attempt"] == 2
    assert [r.details["attempt"] for r in store.read("git_backup")] == [2]
    assert '"attempt": 1' in Path(first.path).read_text()  # never rewritten


@pytest.mark.usefixtures("local_stack")
def test_on_s3_a_second_writer_is_refused_and_evidence_reads_back(
    settings: LocalSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto enforces ``If-None-Match: *`` as S3 does (412 PreconditionFailed)."""
    bucket = f"store-{uuid.uuid4().hex[:10]}"
    aws_client(settings, "s3", "eu-west-1").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    monkeypatch.setenv("BACKUP_STORE_URL", f"s3://{bucket}/store")
    monkeypatch.setenv("BACKUP_STORE_CONN_ID", "aws_dr")
    root = store_root()
    assert root.protocol == "s3"
    create_once(root / "reports" / "r.html", b"first")
    with pytest.raises(AlreadyWritten):
        create_once(root / "reports" / "r.html", b"second")
    assert (root / "reports" / "r.html").read_bytes() == b"first"
    store = EvidenceStore(root / "evidence")
    store.write(record(1))
    store.write(record(2))
    found = store.get("git_backup", "git/o/web", "git_backup", "manual__1")
    assert found is not None and found.details["attempt"] == 2
    assert [r.details["attempt"] for r in store.read("git_backup", "git/o/web")] == [2]
