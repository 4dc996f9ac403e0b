"""What crosses XCom in the RDS backup and restore: typed, so a misspelt key is a mypy error.

A backup plan starts as :class:`InstancePlan`'s required keys (from the policy and the
run's day); each step adds its own facts under its own key and hands the plan on.
A restore request is the trigger form checked field by field; the plan adds what
was found (the snapshot, the restorable window, the dump) and where to act.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from include.dr.rds.transport import InTransit


class ManifestFacts(TypedDict):
    key: str
    version_id: str | None
    taken_at: str  # the moment the manifest's snapshot was opened
    tables: int
    rows: int
    binlog: NotRequired[dict[str, Any] | None]  # the position that snapshot saw, if told
    # The server's running write counts at that moment: the native restore check bounds
    # how far the RDS snapshot may differ from the snapshot's manifest by their growth.
    counters: NotRequired[dict[str, int]]


class DumpMoment(TypedDict):
    """What fixing the dump's moment cost, and how far it is from the snapshot's manifest."""

    writes_paused_seconds: float  # how long writes to the database's tables waited
    rows_written_since_snapshot_manifest: int | None  # inserted + deleted, server-wide


class SnapshotFacts(TypedDict):
    id: str
    arn: str
    status: str | None
    created_at: str | None
    allocated_gb: int | None
    engine: str | None
    engine_version: str | None
    encrypted: bool
    kms_key_id: str | None


class DumpFacts(TypedDict):
    key: str
    version_id: str | None
    bytes_raw: int
    bytes_compressed: int
    sha256: str | None
    reused: bool
    manifest: NotRequired[ManifestFacts]  # taken at the dump's own moment
    moment: NotRequired[DumpMoment]
    kms_key_arn: NotRequired[str]
    parts: NotRequired[int]
    seconds: NotRequired[float]


class InstancePlan(TypedDict):
    """One instance's backup for one day; the steps' facts are added as it travels."""

    instance: str
    database: str
    dr_bucket: str
    fix_drift: bool
    read_from: str  # the MySQL connection the manifests and the dump read
    checksums_on: str  # "database", or "restored_copy" (see include.dr.rds.restored_copy)
    day: str
    snapshot_id: str
    manifest_key: str  # the dump's manifest, at the dump's moment
    snapshot_manifest_key: str  # the live database just before the RDS snapshot
    dump_key: str
    production_region: str
    dr_region: str
    dr_kms_key: str
    preflight: NotRequired[list[dict[str, Any]]]
    drift_fixed: NotRequired[dict[str, Any]]
    # The manifest session's TLS, as the server reported it; the dump's client asks the same.
    in_transit: NotRequired[InTransit]
    snapshot_manifest: NotRequired[ManifestFacts]
    snapshot: NotRequired[SnapshotFacts]
    shared_with: NotRequired[str | None]  # the DR account; None when it is production's own
    copy: NotRequired[SnapshotFacts]
    copy_verified_at: NotRequired[str]
    dump: NotRequired[DumpFacts]


class BackupSummary(TypedDict):
    """The few facts a person looks for in the UI's XCom tab."""

    evidence: str
    snapshot: str
    dr_copy: str
    dr_copy_kms_key: str | None
    dump: str
    dump_sha256: str | None
    encrypted_in_transit: str  # the TLS protocol and cipher the database session used
    tables: int
    rows: int


class RetentionTarget(TypedDict):
    """The keyword arguments of one mapped retention task."""

    asset: str
    inventory: str
    inventory_args: dict[str, str]


class RestorePlan(TypedDict):
    """A restore: the trigger form checked field by field (the request), then what was
    found in AWS or MySQL (where to restore and from what)."""

    instance: str
    database: str
    dr_bucket: str
    source: str
    dry_run: bool
    production_region: str
    dr_region: str
    # an instance restore (latest, snapshot, point_in_time)
    target_instance: NotRequired[str]
    instance_class: NotRequired[str | None]
    subnet_group: NotRequired[str | None]
    security_group_ids: NotRequired[list[str]]
    snapshot_id: NotRequired[str]
    pitr_region: NotRequired[str]
    restore_time: NotRequired[str]
    # a logical dump
    dump_date: NotRequired[str]
    target_database: NotRequired[str]
    # found: an instance restore
    region: NotRequired[str]
    aws_conn_id: NotRequired[str]
    source_instance: NotRequired[str]
    source_automated_backups_arn: NotRequired[str]
    allocated_gb: NotRequired[int | None]  # the storage the new instance is given
    # found: a logical restore
    dump_key: NotRequired[str]
    manifest_key: NotRequired[str]
    dump_bytes: NotRequired[int]


class TableComparison(TypedDict):
    rows: int
    expected_rows: int
    checksum_equal: bool


class LoadResult(TypedDict):
    """A loaded dump compared table by table with its manifest."""

    tables: dict[str, TableComparison]
    equal_to_manifest: bool
    checked_at: str
