"""The bundles of record live in the DR bucket; a worker's cache is only trusted when it
matches them. Real buckets on the moto server."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import pytest

from include.dr.git.bundle import BundleRecord, bundle_path
from include.dr.git.bundle_store import BundleMissing, BundleStore
from include.dr.git.plans import Batch
from include.dr.git.upload import upload_bundle
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings

pytestmark = pytest.mark.usefixtures("local_stack")
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/bundle-store-test"


@pytest.fixture
def dr(settings: LocalSettings, tmp_path: Path) -> tuple[Any, str]:
    """A fresh DR bucket holding two days of one repository, uploaded by a worker whose
    cache is then gone."""
    s3 = aws_client(settings, "s3", "eu-west-1")
    bucket = f"bundles-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for day in ("2026-11-26", "2026-11-27"):
        made = bundle_path(tmp_path / "worker-1", "org", "app", day)
        made.parent.mkdir(parents=True, exist_ok=True)
        made.write_bytes(f"sealed {day}".encode())
        record = BundleRecord(
            "org/app", day, made.name, made.stat().st_size,
            hashlib.sha256(made.read_bytes()).hexdigest(), "p", {"refs/heads/main": day},
            "fp", f"{day}T02:00:00+00:00", True, 0.1,
        )  # fmt: skip
        batch: Batch = {
            "organisation": "org",
            "day": day,
            "repositories": [],
            "dr_bucket": bucket,
            "dr_region": "eu-west-1",
            "kms_key_arn": KEY_ARN,
        }
        upload_bundle(s3, batch, "app", made, record)
    return s3, bucket


def test_another_worker_lists_describes_and_reads_the_bundles_of_record(
    dr: tuple[Any, str], tmp_path: Path
) -> None:
    s3, bucket = dr
    store = BundleStore(tmp_path / "worker-2", s3, bucket)
    assert store.repositories("org") == ["app"]
    assert store.days("org", "app") == ["2026-11-26", "2026-11-27"]
    assert store.record("org", "app", "2026-11-27").refs == {"refs/heads/main": "2026-11-27"}
    path = store.path("org", "app", "2026-11-27")
    assert path.is_relative_to(tmp_path / "worker-2") and path.read_bytes() == b"sealed 2026-11-27"


def test_a_cached_bundle_unlike_its_record_is_fetched_again(
    dr: tuple[Any, str], tmp_path: Path
) -> None:
    s3, bucket = dr
    store = BundleStore(tmp_path / "worker-1", s3, bucket)
    cached = bundle_path(tmp_path / "worker-1", "org", "app", "2026-11-26")
    cached.write_bytes(b"sealed 2026-11-2")  # cut short when the disk filled
    assert store.path("org", "app", "2026-11-26").read_bytes() == b"sealed 2026-11-26"


def test_a_bundle_altered_in_the_dr_bucket_is_refused_not_restored(
    dr: tuple[Any, str], tmp_path: Path
) -> None:
    s3, bucket = dr
    s3.put_object(Bucket=bucket, Key="git/org/app/2026-11-27/bundle.enc", Body=b"ransomed")
    store = BundleStore(tmp_path / "worker-2", s3, bucket)
    with pytest.raises(BundleMissing, match="does not match its sidecar"):
        store.path("org", "app", "2026-11-27")
    assert not bundle_path(tmp_path / "worker-2", "org", "app", "2026-11-27").exists()
    with pytest.raises(BundleMissing, match="choose one of: 2026-11-26, 2026-11-27"):
        store.record("org", "app", "2026-11-25")


def test_the_restore_test_proves_the_dr_copy_not_a_good_cache(
    dr: tuple[Any, str], tmp_path: Path
) -> None:
    s3, bucket = dr
    s3.put_object(Bucket=bucket, Key="git/org/app/2026-11-26/bundle.enc", Body=b"ransomed")
    store = BundleStore(tmp_path / "worker-1", s3, bucket)
    assert store.path("org", "app", "2026-11-26").read_bytes() == b"sealed 2026-11-26"
    with pytest.raises(BundleMissing, match="does not match its sidecar"):
        store.path("org", "app", "2026-11-26", fetch=True)
    assert store.path("org", "app", "2026-11-26").read_bytes() == b"sealed 2026-11-26"


def test_the_cache_keeps_only_the_newest_bundle_of_record(
    dr: tuple[Any, str], tmp_path: Path
) -> None:
    s3, bucket = dr
    cache = tmp_path / "worker-1"
    orphan = bundle_path(cache, "org", "app", "2026-11-20")  # made, never uploaded
    orphan.write_bytes(b"only copy")
    for day in ("2026-11-20", "2026-11-26", "2026-11-27"):
        bundle_path(cache, "org", "app", day).with_name(f"{day}.json").write_text("{}")
    store = BundleStore(cache, s3, bucket)
    assert store.prune_cache("org", "app", keep="2026-11-28") == []  # not a record: keep all
    assert store.prune_cache("org", "app", keep="2026-11-27") == ["2026-11-26"]
    assert not bundle_path(cache, "org", "app", "2026-11-26").exists()
    assert bundle_path(cache, "org", "app", "2026-11-27").exists() and orphan.exists()
    assert store.days("org", "app") == ["2026-11-26", "2026-11-27"]  # the DR copies stay
