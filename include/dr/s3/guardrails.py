"""The DR bucket guardrails, checked before anything is copied (and fixed only on request).

A DR bucket keeps the backup only if it is in the DR region, versioned (so an
overwrite or deletion at the source becomes a new version, never a loss),
encrypted by default with the DR region's key, expires old versions no sooner
than the policy's minimum retention, and refuses plain-HTTP requests.

moto applies a bucket policy's Deny while ignoring its conditions, so a TLS-only
policy would block everything on the local stack: there
(:func:`include.dr.environment.is_local_stack`) the TLS rule is neither attached nor
checked, and reports ``n/a``, never ``pass``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from include.dr.checks import Check, check_bucket_region

TLS_SID = "DenyInsecureTransport"


def denies_plain_http(policy: Mapping[str, Any]) -> bool:
    """True when a Deny statement covers every request made without TLS."""
    for statement in policy.get("Statement", []):
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Effect") == "Deny"
            and str(condition.get("aws:SecureTransport", "")).lower() == "false"
            and statement.get("Principal") in ("*", {"AWS": "*"})
        ):
            return True
    return False


def tls_policy(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": TLS_SID,
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def shortest_expiry(rules: list[dict[str, Any]]) -> int | None:
    """The fewest days any enabled lifecycle rule keeps a current or noncurrent version."""
    days = []
    for rule in rules:
        if rule.get("Status") != "Enabled":
            continue
        days.append(rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"))
        days.append(rule.get("Expiration", {}).get("Days"))
    found = [int(day) for day in days if day is not None]
    return min(found) if found else None


def check_dr_bucket(
    s3: Any, kms: Any, bucket: str, region: str, key_arn: str, minimum_days: int, local: bool
) -> list[Check]:
    """Every guardrail of one DR bucket, each a :class:`Check` with its fix."""
    located = check_bucket_region(s3, bucket, region, "dr")
    if not located.passed:
        return [located]
    checks = [located]
    versioning = s3.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")
    checks.append(
        Check(
            "dr_bucket_versioning",
            bucket,
            versioning == "Enabled",
            "versioning Enabled",
            versioning,
            "" if versioning == "Enabled" else "enable versioning on the DR bucket",
        )
    )
    found_key = _default_kms_key(s3, kms, bucket)
    checks.append(
        Check(
            "dr_bucket_encryption",
            bucket,
            found_key == key_arn,
            f"default SSE-KMS with {key_arn}",
            found_key or "no default SSE-KMS",
            "" if found_key == key_arn else f"set default SSE-KMS with {key_arn}",
        )
    )
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError:
        rules = []
    expiry = shortest_expiry(rules)
    keeps = expiry is None or expiry >= minimum_days
    checks.append(
        Check(
            "dr_bucket_lifecycle",
            bucket,
            keeps,
            f"versions kept at least {minimum_days} days",
            "no expiry" if expiry is None else f"shortest expiry {expiry} days",
            "" if keeps else f"raise every expiry in the DR bucket's lifecycle to {minimum_days}+",
        )
    )
    checks.append(_tls_check(s3, bucket, local))
    return checks


def _default_kms_key(s3: Any, kms: Any, bucket: str) -> str | None:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
    except ClientError:
        return None
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") == "aws:kms" and default.get("KMSMasterKeyID"):
            key = default["KMSMasterKeyID"]
            try:
                return str(kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"])
            except ClientError:
                return str(key)
    return None


def _tls_check(s3: Any, bucket: str, local: bool) -> Check:
    expected = "bucket policy denies requests without TLS"
    if local:
        return Check.not_checked(
            "dr_bucket_tls_only",
            bucket,
            expected,
            "the local stack (plain-HTTP endpoint; moto would apply the Deny to every request)",
        )
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        policy = {}
    ok = denies_plain_http(policy)
    return Check(
        "dr_bucket_tls_only",
        bucket,
        ok,
        expected,
        "denied" if ok else "plain-HTTP requests allowed",
        "" if ok else "attach a policy denying aws:SecureTransport=false (or set fix_settings)",
    )


def put_default_kms(s3: Any, bucket: str, key_arn: str) -> None:
    """Default encryption SSE-KMS with ``key_arn`` (and S3 Bucket Keys, to spare KMS calls)."""
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )


def fix_dr_bucket(
    s3: Any, bucket: str, key_arn: str, minimum_days: int, failed: set[str], local: bool
) -> list[str]:
    """Set what the failed checks named; only with the policy's ``fix_settings``."""
    changes = []
    if "dr_bucket_versioning" in failed:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        changes.append("versioning enabled")
    if "dr_bucket_encryption" in failed:
        put_default_kms(s3, bucket, key_arn)
        changes.append(f"default SSE-KMS with {key_arn}")
    if "dr_bucket_lifecycle" in failed:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "keep-noncurrent-versions",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": max(30, minimum_days)},
                    }
                ]
            },
        )
        changes.append(f"noncurrent versions kept {max(30, minimum_days)} days")
    if "dr_bucket_tls_only" in failed and not local:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(tls_policy(bucket)))
        changes.append("TLS-only bucket policy")
    return changes
