"""S3 run manifests as a retention inventory on moto: each run's folder is one backup, and
deleting a day folder from before runs had folders leaves that day's run folders alone."""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest

from include.dr.inventory.dated_folders import DatedFolderInventory
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY

pytestmark = pytest.mark.usefixtures("local_stack")


def test_each_run_is_a_backup_and_a_legacy_day_folder_deletes_only_its_own(
    settings: LocalSettings,
) -> None:
    s3: Any = aws_client(settings, "s3", "eu-west-1")
    bucket = f"inv-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    prefix = ".backup/manifests/src/"
    runs = {
        f"{prefix}2026-11-01/": "2026-11-01T06:00:00+00:00",  # before runs had folders
        f"{prefix}2026-11-01/20261101T053000Z-aaaa1111/": "2026-11-01T07:00:00+00:00",
        f"{prefix}2026-11-01/20261101T120000Z-bbbb2222/": "2026-11-01T13:00:00+00:00",
    }
    for folder, completed in runs.items():
        s3.put_object(Bucket=bucket, Key=f"{folder}part-000.jsonl.gz", Body=b"manifest")
        tags = {OWNER_KEY: OWNER_VALUE, VERIFIED_KEY: "true", COMPLETED_KEY: completed}
        s3.put_object(
            Bucket=bucket,
            Key=f"{folder}run.json",
            Body=b"{}",
            Tagging=urllib.parse.urlencode(tags),
        )
    s3.put_object(Bucket=bucket, Key=f"{prefix}2026-11-02/20261102T053000Z-c/part-000.jsonl.gz")
    inventory = DatedFolderInventory(s3, bucket, prefix, "run.json", by_run=True)
    found = {b.backup_id: b for b in inventory.list_backups()}
    assert set(found) == {*runs, f"{prefix}2026-11-02/20261102T053000Z-c/"}
    assert all(found[f].finished and found[f].verified for f in runs)
    assert found[f"{prefix}2026-11-01/20261101T120000Z-bbbb2222/"].completed_at.hour == 13
    assert not found[f"{prefix}2026-11-02/20261102T053000Z-c/"].finished  # never deleted

    assert inventory.delete(f"{prefix}2026-11-01/")
    left = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert not any(key.startswith(f"{prefix}2026-11-01/run") for key in left)
    assert f"{prefix}2026-11-01/20261101T053000Z-aaaa1111/run.json" in left
    assert f"{prefix}2026-11-01/20261101T120000Z-bbbb2222/part-000.jsonl.gz" in left
