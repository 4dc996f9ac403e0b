"""The cost benchmark's pure parts: naming a request's S3 operation, the KMS rule and the
monthly arithmetic (the counting itself runs in ``make bench-s3-cost``)."""

from __future__ import annotations

import pytest

from bench.s3_cost import (
    PRICES,
    Estate,
    asks_bucket_key,
    kms_calls,
    monthly_cost,
    operation,
    price_class,
    request_cost,
    split_noop,
)

COPY = {"x-amz-copy-source": "/src/a/b", "Host": "127.0.0.1:1"}


@pytest.mark.parametrize(
    ("method", "target", "headers", "expected"),
    [
        ("GET", "/bucket?list-type=2&prefix=a%2F", {}, "ListObjectsV2"),
        ("GET", "/bucket/?list-type=2&continuation-token=x", {}, "ListObjectsV2"),
        ("GET", "/bucket?prefix=a", {}, "ListObjects"),
        ("GET", "/bucket?versions&prefix=a", {}, "ListObjectVersions"),
        ("GET", "/bucket?location", {}, "GetBucketLocation"),
        ("GET", "/bucket?encryption=", {}, "GetBucketEncryption"),
        ("HEAD", "/bucket", {}, "HeadBucket"),
        ("PUT", "/bucket", {}, "CreateBucket"),
        ("PUT", "/bucket?versioning", {}, "PutBucketVersioning"),
        ("POST", "/bucket?delete", {}, "DeleteObjects"),
        ("GET", "/", {}, "ListBuckets"),
        ("GET", "/bucket/a/b.txt", {}, "GetObject"),
        ("GET", "/bucket/a/b.txt?tagging", {}, "GetObjectTagging"),
        ("GET", "/bucket/a/b.txt?uploadId=1", {}, "ListParts"),
        ("HEAD", "/bucket/a%2Fb.txt?versionId=3", {}, "HeadObject"),
        ("PUT", "/bucket/a/b.txt", {}, "PutObject"),
        ("PUT", "/bucket/a/b.txt", COPY, "CopyObject"),
        ("PUT", "/bucket/a/b.txt?partNumber=2&uploadId=u", COPY, "UploadPartCopy"),
        ("PUT", "/bucket/a/b.txt?partNumber=2&uploadId=u", {}, "UploadPart"),
        ("PUT", "/bucket/a/b.txt?tagging", {}, "PutObjectTagging"),
        ("POST", "/bucket/a/b.txt?uploads", {}, "CreateMultipartUpload"),
        ("POST", "/bucket/a/b.txt?uploadId=u", {}, "CompleteMultipartUpload"),
        ("DELETE", "/bucket/a/b.txt?uploadId=u", {}, "AbortMultipartUpload"),
        ("DELETE", "/bucket/a/b.txt", {}, "DeleteObject"),
        ("POST", "/", {"X-Amz-Target": "TrentService.GenerateDataKey"}, "GenerateDataKey"),
    ],
)
def test_a_request_is_named_as_s3_names_its_operation(
    method: str, target: str, headers: dict[str, str], expected: str
) -> None:
    assert operation(method, target, headers) == expected


def test_price_classes_follow_s3s_request_tiers() -> None:
    assert {price_class(n) for n in ("CopyObject", "ListObjectsV2", "PutObject")} == {"tier1"}
    assert {price_class(n) for n in ("HeadObject", "GetObject", "GetObjectTagging")} == {"tier2"}
    assert price_class("DeleteObject") == "free"
    assert request_cost({"CopyObject": 1000, "HeadObject": 1000, "DeleteObject": 9}) == (
        pytest.approx(PRICES["tier1_per_1000"] + PRICES["tier2_per_1000"])
    )


def test_a_write_asks_for_a_bucket_key_only_where_its_header_says_so() -> None:
    assert asks_bucket_key({"X-Amz-Server-Side-Encryption-Bucket-Key-Enabled": "true"}) is True
    assert asks_bucket_key({"x-amz-server-side-encryption-bucket-key-enabled": "false"}) is False
    assert asks_bucket_key({"x-amz-server-side-encryption": "aws:kms"}) is None


def test_kms_calls_follow_the_bucket_key_rule() -> None:
    step = {
        "operations": {"CopyObject": 100, "PutObject": 8, "ListObjectsV2": 20},
        "writes_with_bucket_key": 8,
        "writes_without_bucket_key": 0,
        "writes_unsaid": 100,
    }
    assert kms_calls(step, dr_default_bucket_key=True, source_bucket_key=True) == {
        "GenerateDataKey": 0,
        "Decrypt": 0,
    }
    assert kms_calls(step, dr_default_bucket_key=False, source_bucket_key=False) == {
        "GenerateDataKey": 100,
        "Decrypt": 100,
    }


def test_the_monthly_estimate_adds_up() -> None:
    estate = Estate("t", objects=1_000_000, gigabytes=100.0, daily_change=0.01, runs_per_month=30)
    cost = monthly_cost(
        estate,
        per_copy={"CopyObject": 1.0},
        per_listed={"ListObjectsV2": 0.002},
        per_run={"PutObject": 8},
        kms_per_copy=1.0,
        manifest_bytes_per_object=100.0,
        manifest_days=8,
    )
    copied = 1_000_000 * 0.01 * 30  # 300,000 copies a month
    assert cost["requests_copying"] == pytest.approx(copied * 0.005 / 1000)
    assert cost["requests_listing"] == pytest.approx((2000 + 8) * 30 * 0.005 / 1000)
    assert cost["kms"] == pytest.approx(copied * 0.03 / 10_000)
    assert cost["transfer"] == pytest.approx(copied * 100.0 / 1_000_000 * 0.02)
    stored = 100.0 + 1.0 * 30 + 0.1 * 8  # current + 30 days of versions + manifests, GB
    assert cost["storage"] == pytest.approx(stored * 0.023)
    parts = sum(v for k, v in cost.items() if k != "total")
    assert cost["total"] == pytest.approx(parts, abs=1e-3)


def test_a_noop_run_splits_into_pages_per_object_listed_and_requests_per_run() -> None:
    listed, fixed = split_noop({"ListObjectsV2": 24, "PutObject": 8}, 10_000)
    assert listed == {"ListObjectsV2": pytest.approx(0.002)}  # a page per 1,000 per bucket
    assert fixed == {"PutObject": 8, "ListObjectsV2": 4}  # folders, the scope's own objects
    assert split_noop({"ListObjectsV2": 20}, 10_000) == ({"ListObjectsV2": 0.002}, {})
