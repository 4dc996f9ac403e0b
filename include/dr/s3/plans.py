"""What the S3 DAGs' tasks pass to each other through XCom, typed.

The backup: a :class:`BucketPlan` per bucket, checked into a :class:`CheckedBucket`,
split into :class:`PartitionPlan`\\s (the mapped copy tasks' arguments), each
answered by a :class:`PartitionOutcome`; then a :class:`BucketSummary` per bucket
and the :class:`RetentionTarget`\\s of its run manifests. No list of objects ever
crosses XCom, only these few fields.

The restore: a :class:`RestoreRequest` (the form, checked), a :class:`CheckedRequest`
(the target looked at), then a :class:`RestorePlan` (the backup run chosen).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class BucketPlan(TypedDict):
    """One source bucket to back up in this run."""

    source: str
    dr_bucket: str
    scopes: list[str]  # the policy's prefixes, or [""] for the whole bucket
    fix_settings: bool
    day: str  # the run's window day, YYYY-MM-DD
    run: str  # the run's manifest folder name (layout.run_key)
    production_region: str
    dr_region: str
    dr_kms_key: str  # as the policy names it (alias, id or ARN)


class CheckedBucket(BucketPlan):
    """A bucket whose guardrails hold (fixed where the policy allows)."""

    kms_key_arn: str
    checks: list[dict[str, Any]]  # Check.as_dict() of the source and DR bucket checks
    fixed: list[str]


class PartitionSpec(TypedDict):
    """``Partition.as_dict()``."""

    scope: str
    folders: list[str]
    root: bool


class PartitionPlan(TypedDict):
    """The argument of one mapped copy task."""

    source: str
    dr_bucket: str
    kms_key_arn: str
    partition: PartitionSpec
    manifest_key: str
    summary_key: str


class ObjectFailure(TypedDict):
    key: str
    error: str
    transient: NotRequired[bool]  # a later try may mend it (throttling, a server error)


class PartitionOutcome(TypedDict):
    """What one copy task did (``PartitionResult.as_dict()`` and its source)."""

    source: str
    listed: int
    copied: int
    unchanged: int
    deleted_at_source: int
    bytes_copied: int
    failures: list[ObjectFailure]
    manifest_key: str
    seconds: float
    bytes_listed: NotRequired[int]  # absent from results stored before it existed
    archived_at_source: NotRequired[int]  # absent from results stored before it existed
    archived_keys: NotRequired[list[str]]
    reused: NotRequired[bool]  # a finished run's stored result (a cleared task)


class BucketSummary(TypedDict):
    """One bucket's result, as the record task returns it (the evidence holds more)."""

    source: str
    dr_bucket: str
    day: str
    run: str
    summary_key: str
    partitions: int
    listed: int
    copied: int
    unchanged: int
    deleted_at_source: int
    bytes_copied: int
    failures: list[ObjectFailure]
    seconds: float
    fixed: list[str]


class RetentionTarget(TypedDict):
    """The keyword arguments of one mapped ``PolicyRetentionOperator``."""

    asset: str
    inventory: str
    inventory_args: dict[str, Any]


class RestoreRequest(TypedDict):
    """The restore form, checked and normalised (nothing looked up yet)."""

    source_bucket: str
    dr_bucket: str
    prefix: str
    as_of: str  # ISO time, UTC when the form gave no zone
    target_bucket: str
    target_prefix: str
    production_target: bool
    dry_run: bool


class CheckedRequest(RestoreRequest):
    """The target bucket exists; whether it is versioned decides if objects are replaced."""

    target_versioned: bool


class RestorePlan(CheckedRequest):
    """The backup run chosen for ``as_of``, and where the target lives."""

    backup_day: str
    backup_run: str  # the run's manifest folder
    backup_finished_at: str
    target_region: str
