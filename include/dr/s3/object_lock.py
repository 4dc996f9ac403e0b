"""Object Lock on the DR buckets and the store: every version kept, by S3 itself, at
least the policy minimum from the moment it was written.

Versioning keeps an overwritten or deleted backup as an old version, but anyone who may
delete versions (an attacker holding the backup's credentials, or an administrator)
can still purge it. A default retention in **compliance mode** closes that: no principal,
the account's root included, can delete a locked version or shorten its lock until it
expires. The lock counts from each version's creation, which for a backup object is the
moment that copy completed; the policy counts its week "from the date of completion".

The lock is judged, not fixed: turning it on cannot be undone, so it comes from the
estate's template (``infra/dr.json``), and the preflight and the compliance evaluation
fail while a DR bucket lacks it. A backup still runs into an unlocked bucket: a copy
without a lock beats no copy.

Deleting under the lock: the product only ever deletes *keys* (a delete marker hides
the backup from listings), never versions, so it never asks S3 for what the lock
forbids. The hidden versions stay until the lifecycle rule expires noncurrent versions,
and never before their lock runs out: :func:`locked_until` is that earliest moment,
and retention records it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from include.dr.checks import Check
from include.dr.s3.guardrails import Unreadable, read_setting

LOCK_MODE = "COMPLIANCE"
CHECK_NAME = "dr_bucket_object_lock"


def lock_configuration(minimum_days: int) -> dict[str, Any]:
    """The DR buckets' lock, in the S3 API's shape (CloudFormation's is the same)."""
    return {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": LOCK_MODE, "Days": minimum_days}},
    }


def read_lock(s3: Any, bucket: str) -> dict[str, Any] | Unreadable:
    """The bucket's lock configuration; ``{}`` when it has none."""
    return read_setting(
        lambda: dict(s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]),
        "s3:GetBucketObjectLockConfiguration",
        {},
        bucket,
    )


def default_days(configuration: Mapping[str, Any]) -> int | None:
    """How many days a new version is locked by default (a year counts 365); ``None``
    when the bucket locks nothing by default."""
    retention = configuration.get("Rule", {}).get("DefaultRetention", {})
    if retention.get("Days"):
        return int(retention["Days"])
    if retention.get("Years"):
        return int(retention["Years"]) * 365
    return None


def lock_terms(configuration: Mapping[str, Any]) -> tuple[str | None, str | None, int | None]:
    """What a configuration says (enabled, mode, days), however S3 spelled it: moto
    answers ``Years: 0`` beside ``Days``."""
    enabled = configuration.get("ObjectLockEnabled")
    mode = configuration.get("Rule", {}).get("DefaultRetention", {}).get("Mode")
    return enabled, mode, default_days(configuration)


def lock_problems(configuration: Mapping[str, Any], minimum_days: int) -> list[str]:
    """What keeps ``configuration`` from locking every new version ``minimum_days`` in
    compliance mode; empty when it does."""
    if configuration.get("ObjectLockEnabled") != "Enabled":
        return ["Object Lock is not enabled"]
    days = default_days(configuration)
    mode = configuration.get("Rule", {}).get("DefaultRetention", {}).get("Mode")
    problems = []
    if days is None:
        problems.append("no default retention")
    elif days < minimum_days:
        problems.append(f"default retention {days} days, under the minimum {minimum_days}")
    if days is not None and mode != LOCK_MODE:
        problems.append(f"mode {mode} (an administrator may bypass it), not {LOCK_MODE}")
    return problems


def check_object_lock(s3: Any, bucket: str, minimum_days: int) -> Check:
    """The bucket locks every new version ``minimum_days`` in compliance mode."""
    expected = f"Object Lock, default retention {LOCK_MODE} {minimum_days}+ days"
    configuration = read_lock(s3, bucket)
    if isinstance(configuration, Unreadable):
        return Check(
            CHECK_NAME, bucket, False, expected, configuration.found(), configuration.fix(bucket)
        )
    problems = lock_problems(configuration, minimum_days)
    if not problems:
        return Check(
            CHECK_NAME, bucket, True, expected, f"{LOCK_MODE} {default_days(configuration)} days"
        )
    return Check(
        CHECK_NAME,
        bucket,
        False,
        expected,
        "; ".join(problems),
        "deploy the bucket from infra/dr.json, or put the lock configuration it names "
        "(PutObjectLockConfiguration; it cannot be turned off again, so the product never "
        "turns it on by itself)",
    )


def locked_until(s3: Any, bucket: str, keys: Iterable[str]) -> datetime | None:
    """The latest moment any current version of ``keys`` is locked until; ``None`` when
    none is locked."""
    until = [
        head["ObjectLockRetainUntilDate"]
        for head in (s3.head_object(Bucket=bucket, Key=key) for key in keys)
        if head.get("ObjectLockRetainUntilDate")
    ]
    return max(until) if until else None
