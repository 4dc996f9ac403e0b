"""A check's verdict with the facts behind it, and the bucket checks everything shares."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Check:
    """One verdict with the facts behind it, ready for the evidence record."""

    name: str
    resource: str
    passed: bool
    expected: str
    found: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "Unknown"))


def bucket_region(s3: Any, bucket: str) -> str:
    """The bucket's region; S3 reports us-east-1 as an empty location."""
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return str(location or "us-east-1")


def check_bucket_region(s3: Any, bucket: str, region: str, role: str) -> Check:
    """``bucket`` exists and lives in ``region``."""
    expected = f"{role} bucket {bucket} in {region}"
    try:
        found = bucket_region(s3, bucket)
    except ClientError as exc:
        return Check(
            f"{role}_bucket",
            bucket,
            False,
            expected,
            error_code(exc),
            f"create the bucket in {region}, or correct its name in the policy file",
        )
    return Check(
        f"{role}_bucket",
        bucket,
        found == region,
        expected,
        f"in {found}",
        "" if found == region else f"use a bucket in {region}; a bucket cannot move region",
    )
