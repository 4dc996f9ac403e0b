"""The copy engine against the moto server in two regions."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from include.dr.local_stack.seed_aws import aws_client, open_to_dr
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.s3.engine import CopyTarget, back_up_partition
from include.dr.s3.listing import folders
from include.dr.s3.partitions import split

pytestmark = pytest.mark.usefixtures("local_stack")
POLICY = load_policy()
PROD, DR = POLICY.regions.production, POLICY.regions.dr


@pytest.fixture
def buckets(settings: LocalSettings) -> Iterator[tuple[Any, Any, CopyTarget]]:
    src, dst = aws_client(settings, "s3", PROD), aws_client(settings, "s3", DR)
    name = f"eng-{uuid.uuid4().hex[:10]}"
    src.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": PROD})
    open_to_dr(settings, name)
    dst.create_bucket(Bucket=f"{name}-dr", CreateBucketConfiguration={"LocationConstraint": DR})
    dst.put_bucket_versioning(Bucket=f"{name}-dr", VersioningConfiguration={"Status": "Enabled"})
    key = aws_client(settings, "kms", DR).describe_key(KeyId=POLICY.kms_key(DR))["KeyMetadata"][
        "Arn"
    ]
    for index in range(30):
        src.put_object(
            Bucket=name, Key=f"{'abc'[index % 3]}/obj-{index:03d}", Body=f"v1 {index}".encode()
        )
    src.put_object(Bucket=name, Key="root.txt", Body=b"root")
    yield src, dst, CopyTarget(name, f"{name}-dr", key, threads=8)


def run(src: Any, dst: Any, target: CopyTarget, tag: str) -> dict[str, Any]:
    totals: dict[str, Any] = {
        "copied": 0,
        "unchanged": 0,
        "deleted_at_source": 0,
        "archived_at_source": 0,
        "archived_keys": [],
        "listed": 0,
        "failures": [],
    }
    found = folders(src, target.source_bucket, "") | folders(dst, target.dr_bucket, "")
    for index, part in enumerate(split("", found, 2)):
        result = back_up_partition(
            src, dst, target, part, f".backup/manifests/{tag}/part-{index}.jsonl.gz"
        ).as_dict()
        for name in totals:
            totals[name] += result[name]
    return totals


def manifest(dst: Any, target: CopyTarget, tag: str) -> dict[str, dict[str, Any]]:
    entries = {}
    listed = dst.list_objects_v2(Bucket=target.dr_bucket, Prefix=f".backup/manifests/{tag}/")[
        "Contents"
    ]
    for item in listed:
        body = dst.get_object(Bucket=target.dr_bucket, Key=item["Key"])["Body"].read()
        for line in gzip.decompress(body).splitlines():
            entry = json.loads(line)
            entries[entry["key"]] = entry
    return entries


def test_full_copy_then_noop_then_a_change(buckets: tuple[Any, Any, CopyTarget]) -> None:
    src, dst, target = buckets
    first = run(src, dst, target, "day1")
    assert (first["copied"], first["listed"], first["failures"]) == (31, 31, [])
    head = dst.head_object(Bucket=target.dr_bucket, Key="b/obj-001")
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == target.kms_key_arn
    assert manifest(dst, target, "day1")["root.txt"]["state"] == "copied"

    again = run(src, dst, target, "day2")
    assert (again["copied"], again["unchanged"]) == (0, 31)

    src.put_object(Bucket=target.source_bucket, Key="a/obj-000", Body=b"v2 changed")
    changed = run(src, dst, target, "day3")
    assert (changed["copied"], changed["unchanged"]) == (1, 30)
    assert dst.get_object(Bucket=target.dr_bucket, Key="a/obj-000")["Body"].read() == b"v2 changed"


def test_deletes_and_overwrites_at_the_source_never_destroy_the_backup(
    buckets: tuple[Any, Any, CopyTarget],
) -> None:
    src, dst, target = buckets
    run(src, dst, target, "day1")
    yesterday = manifest(dst, target, "day1")
    src.delete_object(Bucket=target.source_bucket, Key="c/obj-002")
    src.put_object(Bucket=target.source_bucket, Key="a/obj-003", Body=b"ransomware garbage")
    result = run(src, dst, target, "day2")
    assert result["deleted_at_source"] == 1 and result["copied"] == 1
    today = manifest(dst, target, "day2")
    assert today["c/obj-002"]["state"] == "deleted_at_source"
    # The deleted object is still current in DR; yesterday's overwritten content is a version.
    assert dst.get_object(Bucket=target.dr_bucket, Key="c/obj-002")["Body"].read() == b"v1 2"
    old = dst.get_object(
        Bucket=target.dr_bucket, Key="a/obj-003", VersionId=yesterday["a/obj-003"]["dr_version_id"]
    )
    assert old["Body"].read() == b"v1 3"


def test_large_objects_go_through_multipart_copy(buckets: tuple[Any, Any, CopyTarget]) -> None:
    src, dst, target = buckets
    body = bytes(range(256)) * (12 * 4096)  # 12 MiB
    src.put_object(Bucket=target.source_bucket, Key="big/blob.bin", Body=body)
    small_threshold = CopyTarget(
        target.source_bucket, target.dr_bucket, target.kms_key_arn, 4, 5 * 1024**2, 5 * 1024**2
    )
    result = run(src, dst, small_threshold, "day1")
    assert result["failures"] == []
    copied = dst.get_object(Bucket=target.dr_bucket, Key="big/blob.bin")
    assert copied["Body"].read() == body and copied["SSEKMSKeyId"] == target.kms_key_arn


def test_an_object_archived_at_the_source_is_named_and_the_rest_backed_up(
    buckets: tuple[Any, Any, CopyTarget],
) -> None:
    """S3 refuses to copy a Glacier object (InvalidObjectState) every day until it is
    restored at the source: named, never a failed run."""
    src, dst, target = buckets
    src.put_object(
        Bucket=target.source_bucket, Key="a/archived", Body=b"cold", StorageClass="GLACIER"
    )
    result = run(src, dst, target, "day1")
    assert result["failures"] == [] and result["copied"] == 31
    assert (result["archived_at_source"], result["archived_keys"]) == (1, ["a/archived"])
    entries = [
        json.loads(line)
        for item in dst.list_objects_v2(Bucket=target.dr_bucket, Prefix=".backup/manifests/day1/")[
            "Contents"
        ]
        for line in gzip.decompress(
            dst.get_object(Bucket=target.dr_bucket, Key=item["Key"])["Body"].read()
        ).splitlines()
    ]
    [archived] = [e for e in entries if e["key"] == "a/archived"]
    assert archived["state"] == "archived_at_source" and archived["dr_version_id"] is None


def test_an_object_changed_since_listing_is_copied_as_it_now_is(
    buckets: tuple[Any, Any, CopyTarget],
) -> None:
    from datetime import UTC, datetime

    from include.dr.s3.diff import SourceObject
    from include.dr.s3.engine import copy_verified

    src, dst, target = buckets
    stale = SourceObject("a/obj-000", 4, datetime.now(UTC), etag='"not-the-current-etag"')
    version = copy_verified(dst, target, stale).version_id
    copied = dst.get_object(Bucket=target.dr_bucket, Key="a/obj-000", VersionId=version)
    assert copied["Body"].read() == b"v1 0"


def test_every_copy_and_put_asks_for_an_s3_bucket_key(
    buckets: tuple[Any, Any, CopyTarget],
) -> None:
    """moto ignores BucketKeyEnabled, so the request itself is checked: every SSE-KMS
    CopyObject, CreateMultipartUpload and PutObject carries the Bucket Key header."""
    src, dst, target = buckets
    src.put_object(Bucket=target.source_bucket, Key="big/blob.bin", Body=b"x" * 6 * 1024**2)
    sent: list[tuple[str, dict[str, str]]] = []

    def capture(model: Any, params: dict[str, Any], **_: Any) -> None:
        sent.append((model.name, dict(params["headers"])))

    dst.meta.events.register("before-call.s3", capture)
    try:
        small_threshold = CopyTarget(
            target.source_bucket, target.dr_bucket, target.kms_key_arn, 4, 5 * 1024**2, 5 * 1024**2
        )
        assert run(src, dst, small_threshold, "day1")["failures"] == []
    finally:
        dst.meta.events.unregister("before-call.s3", capture)
    writes = [
        (name, headers)
        for name, headers in sent
        if name in {"CopyObject", "CreateMultipartUpload", "PutObject"}
    ]
    assert {name for name, _ in writes} == {"CopyObject", "CreateMultipartUpload", "PutObject"}
    for name, headers in writes:
        assert headers.get("x-amz-server-side-encryption") == "aws:kms", name
        assert headers.get("x-amz-server-side-encryption-bucket-key-enabled") == "true", name


def test_each_partition_logs_its_progress_and_a_closing_line(
    buckets: tuple[Any, Any, CopyTarget],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.progress_lines import done_of, progress_lines

    src, dst, target = buckets
    sizes = [o["Size"] for o in src.list_objects_v2(Bucket=target.source_bucket)["Contents"]]
    with progress_lines(caplog, monkeypatch) as lines:
        run(src, dst, target, "progress")
    closing = [line for line in lines if " done: " in line]
    assert len(closing) == 2 and all("backing up s3://" in line for line in closing)
    counts = [done_of(line) for line in closing]
    assert sum(done for done, _, _ in counts) == sum(total for _, total, _ in counts) == 31
    assert {unit for _, _, unit in counts} == {"objects"}
    copied = sum(int(line.split("objects (100.0%), ")[1].split(" B in ")[0]) for line in closing)
    assert copied == sum(sizes)
    assert len(lines) > len(closing)  # lines while it copied, not only the closing ones
