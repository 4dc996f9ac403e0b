"""One copy path for backup, restore and the restore test's sample: any size, faithful,
checked by streaming. Pure rules as properties; copies on the moto server with the
multipart threshold lowered to 5 MiB."""

from __future__ import annotations

import base64
import hashlib
import math
import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.s3.copying import (
    COPY_OBJECT_LIMIT,
    MAX_PARTS,
    PREFERRED_PART_SIZE,
    Source,
    copy_version,
    part_size_for,
    same_checksum,
    stream_digests,
)

MiB = 1024**2


@given(st.integers(min_value=1, max_value=5 * 1024**4))
def test_any_object_up_to_5_tib_fits_in_10000_parts_of_whole_mebibytes(size: int) -> None:
    part = part_size_for(size)
    assert math.ceil(size / part) <= MAX_PARTS
    assert part % MiB == 0 and PREFERRED_PART_SIZE <= part <= COPY_OBJECT_LIMIT


@given(st.binary(max_size=300), st.lists(st.integers(1, 40), max_size=20), st.integers(1, 64))
def test_streamed_digests_match_s3s_definitions_however_the_body_is_chunked(
    body: bytes, cuts: list[int], part_size: int
) -> None:
    chunks, rest = [], body
    for cut in cuts:
        chunks.append(rest[:cut])
        rest = rest[cut:]
    chunks.append(rest)
    found = stream_digests(iter(chunks), part_size)
    parts = [body[i : i + part_size] for i in range(0, len(body), part_size)]
    composite = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    assert found["FULL_OBJECT"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert found["COMPOSITE"] == base64.b64encode(composite).decode()
    assert same_checksum(f"{found['COMPOSITE']}-{len(parts)}", found)


@pytest.fixture
def bucket(settings: LocalSettings, local_stack: Any) -> tuple[Any, str]:
    s3 = aws_client(settings, "s3", "eu-west-1")
    name = f"copy-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3, name


def test_a_copy_in_parts_keeps_the_listed_version_its_type_metadata_and_tags(
    bucket: tuple[Any, str],
) -> None:
    s3, name = bucket
    body = b"a" * (6 * MiB) + b"b" * MiB
    listed = s3.put_object(
        Bucket=name,
        Key="big.bin",
        Body=body,
        ContentType="application/x-archive",
        Metadata={"owner": "finance"},
        Tagging="retention=7y",
    )
    s3.put_object(Bucket=name, Key="big.bin", Body=b"overwritten after listing")
    source = Source(name, "big.bin", len(body), listed["VersionId"])
    copied = copy_version(s3, source, name, "copy.bin", {}, threshold=5 * MiB, part_size=5 * MiB)
    assert (copied.checksum_type, copied.part_size) == ("COMPOSITE", 5 * MiB)
    got = s3.get_object(Bucket=name, Key="copy.bin")
    assert got["Body"].read() == body
    assert got["ContentType"] == "application/x-archive" and got["Metadata"] == {"owner": "finance"}
    tags = s3.get_object_tagging(Bucket=name, Key="copy.bin")["TagSet"]
    assert tags == [{"Key": "retention", "Value": "7y"}]


def test_a_copy_in_one_request_records_the_whole_objects_sha256(bucket: tuple[Any, str]) -> None:
    s3, name = bucket
    s3.put_object(Bucket=name, Key="small.txt", Body=b"hello")
    copied = copy_version(s3, Source(name, "small.txt", 5), name, "copy.txt", {})
    assert copied.checksum_type == "FULL_OBJECT"
    assert same_checksum(str(copied.sha256), stream_digests([b"hel", b"lo"], None))


def test_the_sample_restores_a_multipart_backup_in_parts_and_checks_it_by_streaming(
    bucket: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the threshold the backup's checksum is S3's composite over its parts; the
    restore test's sample copies in parts too and recomputes that composite as it reads."""
    from include.dr.restore_test.s3_sample import check_object
    from include.dr.s3.restore import RestoreObject

    monkeypatch.setenv("BACKUP_S3_MULTIPART_THRESHOLD", str(5 * MiB))
    s3, name = bucket
    body = bytes(range(256)) * (7 * MiB // 256)
    s3.put_object(Bucket=name, Key="src.bin", Body=body)
    backup = copy_version(
        s3, Source(name, "src.bin", len(body)), name, "dr.bin", {}, part_size=5 * MiB
    )
    recorded = RestoreObject(
        "dr.bin", len(body), str(backup.version_id), backup.sha256, "COMPOSITE", backup.part_size
    )
    assert check_object(s3, name, recorded, name, "scratch/dr.bin") is None
    other = base64.b64encode(hashlib.sha256(b"other bytes").digest()).decode()
    recorded_otherwise = RestoreObject(
        "dr.bin", len(body), str(backup.version_id), f"{other}-2", "COMPOSITE", backup.part_size
    )
    problem = check_object(s3, name, recorded_otherwise, name, "scratch/again.bin")
    assert problem is not None and "differs from the backup's" in problem
