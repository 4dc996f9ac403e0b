"""What crosses XCom in the restore test: its plan (each asset's latest backup and this
run's scratch names) and the native restore request made from it."""

from __future__ import annotations

from typing import TypedDict


class RdsTarget(TypedDict):
    """An RDS instance's latest logical dump and DR snapshot, and its scratch instance."""

    instance: str
    database: str
    dr_bucket: str
    dump_date: str
    dump_key: str
    manifest_key: str
    snapshot_id: str | None
    scratch_instance: str


class S3Target(TypedDict):
    """A source bucket's latest finished backup day, and its earliest one (if another)."""

    source_bucket: str
    dr_bucket: str
    backup_day: str
    earlier_day: str | None


class GitTarget(TypedDict):
    """A repository's latest bundle day."""

    organisation: str
    repository: str
    day: str


class RestoreTestPlan(TypedDict):
    scratch_id: str
    started_at: str
    keep_scratch: bool
    dr_region: str
    scratch_bucket: str
    scratch_database: str
    rds: list[RdsTarget]
    s3: list[S3Target]
    git: list[GitTarget]


class NativeRestoreRequest(TypedDict, total=False):
    """The temporary instance's restore (``RdsRestoreInstanceOperator``'s plan); a dry run
    when no RDS asset has a DR snapshot."""

    dry_run: bool
    source: str
    snapshot_id: str
    target_instance: str
    region: str
    aws_conn_id: str
    instance_class: str | None
    subnet_group: str | None
    security_group_ids: list[str]


class Scratch(TypedDict):
    bucket: str
    database: str
