"""A check's verdict with the facts behind it, and the bucket checks everything shares.

A check is ``pass``, ``fail`` or ``n/a``: a guardrail that could not be checked (the
TLS-only bucket policy on the local stack, say) reports ``n/a``, never ``pass``, and
never fails a run. Callers ask :attr:`Check.failed`, not ``not passed``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from botocore.exceptions import ClientError

from include.dr.errors import error_code, from_client_error, is_transient

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

__all__ = [
    "Check",
    "CheckRecord",
    "CheckStatus",
    "bucket_region",
    "check_bucket_region",
    "error_code",
    "failed_checks",
    "status_of",
]

CheckStatus = Literal["pass", "fail", "n/a"]


class CheckRecord(TypedDict):
    """A check as evidence and as it crosses XCom (:meth:`Check.as_dict`)."""

    name: str
    resource: str
    passed: bool
    expected: str
    found: str
    fix: str
    checked: bool
    status: CheckStatus


@dataclass(frozen=True)
class Check:
    """One verdict with the facts behind it, ready for the evidence record.

    ``checked=False`` is a check that was not made (``passed`` is then False too, so
    nothing reads it as a pass); its ``found`` says why.
    """

    name: str
    resource: str
    passed: bool
    expected: str
    found: str
    fix: str = ""
    checked: bool = True

    @classmethod
    def not_checked(cls, name: str, resource: str, expected: str, why: str) -> Check:
        """A check that could not be made here: ``n/a``, with the reason as what was found."""
        return cls(name, resource, False, expected, f"not checked: {why}", checked=False)

    @property
    def status(self) -> CheckStatus:
        return "n/a" if not self.checked else "pass" if self.passed else "fail"

    @property
    def failed(self) -> bool:
        """Checked, and did not hold (an ``n/a`` check has not failed)."""
        return self.checked and not self.passed

    def as_dict(self) -> dict[str, Any]:
        return dict(self.as_record())

    def as_record(self) -> CheckRecord:
        """The check as evidence, typed."""
        return CheckRecord(
            name=self.name,
            resource=self.resource,
            passed=self.passed,
            expected=self.expected,
            found=self.found,
            fix=self.fix,
            checked=self.checked,
            status=self.status,
        )


def status_of(check: Mapping[str, Any]) -> CheckStatus:
    """The status of a check in its evidence form (``as_dict()``; older records carry only
    ``passed``)."""
    if "status" in check:
        return check["status"]  # type: ignore[no-any-return]
    return "pass" if check.get("passed") else "fail"


def failed_checks(checks: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The checks (evidence form) that were made and did not hold."""
    return [check for check in checks if status_of(check) == "fail"]


def bucket_region(s3: S3Client, bucket: str) -> str:
    """The bucket's region; S3 reports us-east-1 as an empty location."""
    location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    return str(location or "us-east-1")


def check_bucket_region(s3: S3Client, bucket: str, region: str, role: str) -> Check:
    """``bucket`` exists and lives in ``region``."""
    expected = f"{role} bucket {bucket} in {region}"
    try:
        found = bucket_region(s3, bucket)
    except ClientError as exc:
        if is_transient(exc):
            raise from_client_error(exc, f"reading the region of {bucket}") from exc
        return Check(
            f"{role}_bucket",
            bucket,
            False,
            expected,
            error_code(exc) or "no answer code",
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
