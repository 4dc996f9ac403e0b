"""A second backup run on the same day, after the source changed, leaves the first
finished backup's objects byte-identical and restorable: the same test for S3, git and
RDS. (After ransomware, a second run the same day once rewrote the S3 day's manifests.)"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.git.bundle import bundle_path, bundles_dir
from include.dr.local_stack.seed_aws import aws_client, demo_objects
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.s3.restore import objects_as_of
from tests.gitrepos import Upstream, git
from tests.integration.dag_runs import a_day, run_daily
from tests.integration.git_runs import DR_BUCKET
from tests.integration.test_git_backup_dag import clone_bundle
from tests.integration.test_rds_backup_dag import INSTANCE, load_into_scratch

pytestmark = pytest.mark.usefixtures("local_stack")


def digests(s3: Any, bucket: str, keys: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Key -> (SHA-256 of the current bytes, current version id)."""
    found = {}
    for key in keys:
        got = s3.get_object(Bucket=bucket, Key=key)
        found[key] = (hashlib.sha256(got["Body"].read()).hexdigest(), got.get("VersionId", ""))
    return found


def evidence(kind: str, asset: str, run: Any) -> dict[str, Any]:
    return evidence_store().get(kind, asset, kind, run.run_id).details


def test_s3(dag_bag: Any, fresh_buckets: dict[str, Any]) -> None:
    source, src, dst, dr = (fresh_buckets[k] for k in ("source", "src", "dst", "dr"))
    day = a_day()
    first = run_daily(dag_bag, "s3_backup", day)
    assert first.state == "success"
    details = evidence("s3_backup", f"s3/{source}", first)
    folder = details["manifests"][0].rsplit("/", 1)[0] + "/"
    objects = [*details["manifests"], f"{folder}run.json"]
    before = digests(dst, dr, objects)
    originals = dict(demo_objects(source)[:60])
    time.sleep(1.1)  # S3 times have one-second resolution
    for key in list(originals)[:5]:
        src.put_object(Bucket=source, Key=key, Body=b"\x00encrypted by ransomware")
    for key in list(originals)[5:10]:
        src.delete_object(Bucket=source, Key=key)

    second = run_daily(dag_bag, "s3_backup", day + timedelta(minutes=1))
    assert second.state == "success"
    assert evidence("s3_backup", f"s3/{source}", second)["copied"] == 5
    assert digests(dst, dr, objects) == before
    plan = {
        "dr_bucket": dr,
        "source_bucket": source,
        "prefix": "",
        "backup_day": details["day"],
        "backup_run": folder,
    }
    restored = {
        obj.key: dst.get_object(Bucket=dr, Key=obj.key, VersionId=obj.version_id)["Body"].read()
        for obj in objects_as_of(dst, plan)
    }
    assert restored == originals


def test_git(dag_bag: Any, upstream: Upstream, settings: LocalSettings, tmp_path: Path) -> None:
    org, day = upstream.organisation, a_day()
    refs = upstream.refs("alpha")
    first = run_daily(dag_bag, "git_backup", day)
    assert first.state == "success"
    details = evidence("git_backup", f"git/{org}/alpha", first)
    stored = bundle_path(bundles_dir(), org, "alpha", details["day"])
    local = hashlib.sha256(stored.read_bytes()).hexdigest()
    dst = aws_client(settings, "s3", "eu-west-1")
    before = digests(dst, DR_BUCKET, [details["dr_copy"]["key"]])

    main_log = git("--git-dir", str(upstream.bare("alpha")), "rev-list", "main").split()
    upstream.force_push("alpha", "main", main_log[3], tmp_path)
    second = run_daily(dag_bag, "git_backup", day + timedelta(minutes=1))
    assert second.state == "success"
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == local
    assert digests(dst, DR_BUCKET, [details["dr_copy"]["key"]]) == before
    assert clone_bundle(stored, tmp_path) == refs


def test_rds(dag_bag: Any, settings: LocalSettings) -> None:
    day = a_day()
    first = run_daily(dag_bag, "rds_backup", day)
    assert first.state == "success"
    details = evidence("rds_backup", f"rds/{INSTANCE}", first)
    bucket = load_policy().assets.rds[0].dr_bucket
    dst = aws_client(settings, "s3", "eu-west-1")
    objects = [details["dump_key"], details["manifest_key"]]
    before = digests(dst, bucket, objects)
    rds = aws_client(settings, "rds", "eu-west-1")

    def snapshot() -> dict[str, Any]:
        [found] = rds.describe_db_snapshots(DBSnapshotIdentifier=details["snapshot_id"])[
            "DBSnapshots"
        ]
        return {k: found.get(k) for k in ("DBSnapshotArn", "SnapshotCreateTime", "KmsKeyId")}

    copy = snapshot()
    second = run_daily(dag_bag, "rds_backup", day + timedelta(minutes=1))
    assert second.state == "success"
    assert digests(dst, bucket, objects) == before
    assert snapshot() == copy
    manifest = json.loads(dst.get_object(Bucket=bucket, Key=details["manifest_key"])["Body"].read())
    expected = {table: entry["row_count"] for table, entry in manifest["tables"].items()}
    dump = dst.get_object(Bucket=bucket, Key=details["dump_key"])["Body"].read()
    assert load_into_scratch(settings, dump, "restore_same_day_rerun") == expected
