"""The daily S3 backup DAG, run for real with dag.test() against moto in two regions."""

from __future__ import annotations

import gzip
import json
import re
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.accounts import DR_ACCOUNT, admin_client
from include.dr.local_stack.seed_aws import aws_client, demo_objects
from include.dr.local_stack.settings import LocalSettings
from include.dr.run_info import RunInfo
from tests.integration.dag_runs import a_day
from tests.integration.s3_runs import run_backup

pytestmark = pytest.mark.usefixtures("local_stack")


def record(run: Any, source: str) -> Any:
    return evidence_store().get("s3_backup", f"s3/{source}", "s3_backup", run.run_id)


def test_first_copy_then_a_noop_rerun_then_restore_as_of_yesterday(
    dag_bag: Any, fresh_buckets: dict[str, Any]
) -> None:
    source, src, dst = fresh_buckets["source"], fresh_buckets["src"], fresh_buckets["dst"]
    day = a_day()
    first = run_backup(dag_bag, day)
    assert first.state == "success"
    summary = record(first, source).details
    assert (summary["copied"], summary["listed"], summary["failures"]) == (60, 60, [])
    # fix_settings made the bare DR bucket safe before anything was copied.
    assert "versioning enabled" in summary["fixed"]
    assert dst.get_bucket_versioning(Bucket=fresh_buckets["dr"])["Status"] == "Enabled"

    again = run_backup(dag_bag, day + timedelta(minutes=1))
    assert again.state == "success"
    assert (
        record(again, source).details["copied"],
        record(again, source).details["unchanged"],
    ) == (0, 60)

    # Ransomware: one object overwritten, one deleted. The next day's run keeps both stories.
    victim, gone = demo_objects(source)[0], demo_objects(source)[1]
    src.put_object(Bucket=source, Key=victim[0], Body=b"encrypted by ransomware")
    src.delete_object(Bucket=source, Key=gone[0])
    later = run_backup(dag_bag, day + timedelta(days=1))
    assert later.state == "success"
    details = record(later, source).details
    assert (details["copied"], details["deleted_at_source"]) == (1, 1)

    # "As of yesterday" from the first day's second run: byte-identical to the original.
    manifest = {}
    for key in record(again, source).details["manifests"]:
        body = gzip.decompress(dst.get_object(Bucket=fresh_buckets["dr"], Key=key)["Body"].read())
        manifest |= {json.loads(line)["key"]: json.loads(line) for line in body.splitlines()}
    entry = manifest[victim[0]]  # the same day's no-op second run: "unchanged"
    versions = dst.list_object_versions(Bucket=fresh_buckets["dr"], Prefix=victim[0])["Versions"]
    [version] = [v for v in versions if v["LastModified"].isoformat() == entry["dr_modified"]]
    restored = dst.get_object(
        Bucket=fresh_buckets["dr"], Key=victim[0], VersionId=version["VersionId"]
    )
    assert restored["Body"].read() == victim[1]
    assert dst.get_object(Bucket=fresh_buckets["dr"], Key=gone[0])["Body"].read() == gone[1]


def test_a_one_percent_change_copies_one_object_and_a_large_one_goes_multipart(
    dag_bag: Any, fresh_buckets: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    source, src, dst, dr = (fresh_buckets[k] for k in ("source", "src", "dst", "dr"))
    for n in range(40):  # 100 objects in all
        src.put_object(Bucket=source, Key=f"extra/obj-{n:03d}", Body=f"extra {n}".encode())
    day = a_day()
    assert run_backup(dag_bag, day).state == "success"

    changed = demo_objects(source)[5][0]
    src.put_object(Bucket=source, Key=changed, Body=b"changed")
    one = run_backup(dag_bag, day + timedelta(days=1))
    details = record(one, source).details
    assert (details["listed"], details["copied"], details["unchanged"]) == (100, 1, 99)
    assert dst.get_object(Bucket=dr, Key=changed)["Body"].read() == b"changed"

    monkeypatch.setenv("BACKUP_S3_MULTIPART_THRESHOLD", str(5 * 1024**2))  # read at run time
    body = bytes(range(256)) * (12 * 4096)  # 12 MiB
    src.put_object(Bucket=source, Key="big/blob.bin", Body=body)
    big = run_backup(dag_bag, day + timedelta(days=2))
    assert (record(big, source).details["copied"], big.state) == (1, "success")
    copied = dst.get_object(Bucket=dr, Key="big/blob.bin")
    assert copied["Body"].read() == body
    assert re.fullmatch(r'"[0-9a-f]{32}-\d+"', copied["ETag"])  # "<md5>-<parts>": multipart
    assert copied["SSEKMSKeyId"] == dst.head_object(Bucket=dr, Key=changed)["SSEKMSKeyId"]


def test_missing_source_bucket_fails_before_anything_is_copied(
    dag_bag: Any, use_policy: Callable[..., dict[str, Any]]
) -> None:
    use_policy(
        lambda p: p["assets"].update(
            s3=[{"source": "swl-never-made", "dr_bucket": "swl-customer-uploads-dr"}]
        )
    )
    run = run_backup(dag_bag, a_day())
    assert run.state == "failed"
    failed = record(run, "swl-never-made")
    assert failed.outcome == "fail" and failed.details["failed_step"] == "check_buckets"
    assert "source_bucket swl-never-made" in failed.details["reason"]


def test_dr_bucket_in_the_wrong_region_or_unencrypted_is_refused(
    dag_bag: Any, settings: LocalSettings, use_policy: Callable[..., dict[str, Any]]
) -> None:
    dst = aws_client(settings, "s3", "eu-west-1")  # the DR account's buckets
    london_dst = admin_client(settings, DR_ACCOUNT, "s3", "eu-west-2")
    plain, london = f"plain-{uuid.uuid4().hex[:8]}", f"london-{uuid.uuid4().hex[:8]}"
    dst.create_bucket(Bucket=plain, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    london_dst.create_bucket(
        Bucket=london, CreateBucketConfiguration={"LocationConstraint": "eu-west-2"}
    )
    use_policy(
        lambda p: p["assets"].update(
            s3=[
                {"source": "swl-customer-uploads", "dr_bucket": london},  # production region
                {"source": "swl-system-data", "dr_bucket": plain},  # no versioning, no encryption
            ]
        )
    )
    run = run_backup(dag_bag, a_day())
    assert run.state == "failed"
    wrong_region = record(run, "swl-customer-uploads").details["reason"]
    assert f"dr_bucket {london}: found in eu-west-2" in wrong_region
    unencrypted = record(run, "swl-system-data").details["reason"]
    assert "dr_bucket_encryption" in unencrypted and "dr_bucket_versioning" in unencrypted
    assert dst.list_objects_v2(Bucket=plain)["KeyCount"] == 0


def test_an_object_archived_at_the_source_is_named_and_never_fails_the_day(
    dag_bag: Any, fresh_buckets: dict[str, Any]
) -> None:
    """S3 refuses to copy a Glacier object until it is restored at the source, every day:
    the run passes with everything else copied, and names it (the compliance clause
    ``archived_at_source`` warns). A copy that fails for another reason still fails the
    run by name (tests/include/dr/s3/test_backup.py)."""
    source = fresh_buckets["source"]
    fresh_buckets["src"].put_object(
        Bucket=source, Key="avatars/frozen.png", Body=b"x", StorageClass="GLACIER"
    )
    run = run_backup(dag_bag, a_day())
    assert run.state == "success"
    details = record(run, source).details
    assert record(run, source).outcome == "pass" and details["failures"] == []
    assert (details["archived_at_source"], details["archived_keys"]) == (
        1,
        ["avatars/frozen.png"],
    )
    assert details["copied"] == 60  # everything else was backed up


def test_a_retried_task_of_a_finished_run_rewrites_none_of_its_manifests(
    dag_bag: Any, fresh_buckets: dict[str, Any], settings: LocalSettings
) -> None:
    """A cleared copy or record task of a finished run finds its run.json: it copies and
    writes nothing, and the stored summary stands."""
    from include.dr.s3.backup import copy_partition, record_buckets

    source, dr, dst = fresh_buckets["source"], fresh_buckets["dr"], fresh_buckets["dst"]
    run = run_backup(dag_bag, a_day())
    details = record(run, source).details
    folder = details["summary_key"].removesuffix("run.json")
    assert folder.endswith(f"/{details['day']}/{details['run']}/")

    def versions() -> list[tuple[str, str]]:
        found = dst.list_object_versions(Bucket=dr, Prefix=folder)["Versions"]
        return sorted((v["Key"], v["VersionId"]) for v in found)

    before = versions()
    fresh_buckets["src"].put_object(Bucket=source, Key="avatars/late.png", Body=b"late")
    clients = {
        "source_s3": fresh_buckets["src"],
        "dr_s3": dst,
    }
    part = {
        "source": source,
        "dr_bucket": dr,
        "kms_key_arn": "unused",
        "partition": {"scope": "", "folders": [], "root": True},
        "manifest_key": details["manifests"][0],
        "summary_key": details["summary_key"],
    }
    again = copy_partition(part, clients)
    assert again["reused"] is True and again["copied"] == details["parts"][0]["copied"]
    plan = {**details, "kms_key_arn": "unused", "checks": [], "fixed": []}
    info = RunInfo("s3_backup", run.run_id, run.logical_date)
    [summary] = record_buckets([plan], [{**again, "copied": 999}], dst, info)
    assert summary["copied"] == details["copied"]  # the stored summary, not the retry's
    assert versions() == before  # nothing in the finished run's folder was written again
    assert "avatars/late.png" not in {
        o["Key"] for o in dst.list_objects_v2(Bucket=dr).get("Contents", [])
    }
