"""RDS snapshots as the backup sees them: found by name, judged by status, described as facts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from include.dr.errors import Permanent, is_not_found
from include.dr.rds.plans import SnapshotFacts

if TYPE_CHECKING:
    from types_boto3_rds import RDSClient

FAILED_STATES = frozenset(
    {"failed", "incompatible-restore", "incompatible-parameters", "deleting", "deleted"}
)


class SnapshotFailed(Permanent):
    """A snapshot (or its copy) ended in a failed state, or never became available."""


def describe_snapshot(rds: RDSClient, snapshot_id: str) -> dict[str, Any] | None:
    """The snapshot named ``snapshot_id``, or None when there is none."""
    try:
        snapshots = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    return dict(snapshots[0]) if snapshots else None


def refuse_failed(snapshot: dict[str, Any], region: str) -> None:
    """Raise :class:`SnapshotFailed` for a snapshot in a failed state (it is left alone)."""
    status = snapshot.get("Status")
    if status in FAILED_STATES:
        raise SnapshotFailed(
            f"RDS snapshot {snapshot['DBSnapshotIdentifier']} in {region} is {status}, "
            "so it is not a backup. Investigate it, delete it by hand, and re-run this "
            "day: the backup is re-made under the same name"
        )


def snapshot_facts(snapshot: dict[str, Any]) -> SnapshotFacts:
    """The evidence-worthy facts of a snapshot, JSON-ready."""
    created = snapshot.get("SnapshotCreateTime")
    return {
        "id": snapshot["DBSnapshotIdentifier"],
        "arn": snapshot["DBSnapshotArn"],
        "status": snapshot.get("Status"),
        "created_at": created.isoformat() if isinstance(created, datetime) else created,
        "allocated_gb": snapshot.get("AllocatedStorage"),
        "engine": snapshot.get("Engine"),
        "engine_version": snapshot.get("EngineVersion"),
        "encrypted": bool(snapshot.get("Encrypted")),
        "kms_key_id": snapshot.get("KmsKeyId"),
    }
