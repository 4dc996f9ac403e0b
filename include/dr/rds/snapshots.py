"""RDS snapshots as the backup sees them: found by name, judged by status, described as facts.

Also whether the instance can be snapshotted now: ``CreateDBSnapshot`` needs the
instance ``available`` (or ``storage-optimization``) and answers
``InvalidDBInstanceState`` otherwise, e.g. while RDS's own automated backup runs.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from include.dr.errors import Permanent, Transient, error_code, is_not_found
from include.dr.rds.plans import SnapshotFacts

if TYPE_CHECKING:
    from types_boto3_rds import RDSClient

FAILED_STATES = frozenset(
    {"failed", "incompatible-restore", "incompatible-parameters", "deleting", "deleted"}
)


# The instance states CreateDBSnapshot accepts (its API reference).
SNAPSHOTTABLE_STATES = frozenset({"available", "storage-optimization"})
# Instance states that do not pass by waiting: a person must act. Any other state
# (backing-up, modifying, maintenance, rebooting, upgrading, ...) is waited out.
UNUSABLE_INSTANCE_STATES = frozenset(
    {
        "stopped",
        "stopping",
        "failed",
        "deleting",
        "delete-precheck",
        "inaccessible-encryption-credentials",
        "inaccessible-encryption-credentials-recoverable",
        "incompatible-network",
        "incompatible-option-group",
        "incompatible-parameters",
        "incompatible-restore",
        "insufficient-capacity",
        "restore-error",
        "storage-full",
    }
)


class SnapshotFailed(Permanent):
    """A snapshot (or its copy) ended in a failed state, or never became available."""


class InstanceUnusable(Permanent):
    """The instance is in a state that waiting will not change; a person must act."""


class InstanceBusy(Transient):
    """The instance cannot be snapshotted yet (e.g. its automated backup is running);
    retried with backoff."""


def snapshot_readiness(instance: str, status: str, region: str) -> Literal["snapshot", "wait"]:
    """Snapshot now, or wait (in the triggerer) for the instance to be ``available``;
    raises :class:`InstanceUnusable` for a state only a person can end."""
    if status in SNAPSHOTTABLE_STATES:
        return "snapshot"
    if status in UNUSABLE_INSTANCE_STATES:
        raise InstanceUnusable(
            f"RDS instance {instance} in {region} is {status}, so it cannot be snapshotted and "
            "waiting will not change that. Bring it back to available (start it, restore its "
            "KMS key or storage, or fix its network or parameters), then re-run this day"
        )
    return "wait"


def snapshot_create_error(error: ClientError, instance: str, region: str) -> InstanceBusy | None:
    """What a refused ``CreateDBSnapshot`` means for us: ``InvalidDBInstanceState`` (the
    instance turned busy between our look and our request) is :class:`InstanceBusy`, retried;
    None for any other answer, which the task boundary classifies."""
    if error_code(error) == "InvalidDBInstanceState":
        return InstanceBusy(
            f"RDS instance {instance} in {region} refused a snapshot because of its state "
            f"({error}); no snapshot was made. The task is retried with backoff"
        )
    return None


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


def share_with(rds: RDSClient, snapshot_id: str, account: str) -> None:
    """Let ``account`` (the DR account) copy the snapshot, unless it already may.

    Sharing is how a snapshot leaves the production account: the DR account then copies
    it with its own key into its own region, and the copy is out of production's reach.
    Only a manual snapshot can be shared, and only with named accounts (never ``all``).
    """
    answer = rds.describe_db_snapshot_attributes(DBSnapshotIdentifier=snapshot_id)
    attributes = answer["DBSnapshotAttributesResult"]["DBSnapshotAttributes"]
    allowed = {
        v for a in attributes if a["AttributeName"] == "restore" for v in a["AttributeValues"]
    }
    if account not in allowed:
        rds.modify_db_snapshot_attribute(
            DBSnapshotIdentifier=snapshot_id, AttributeName="restore", ValuesToAdd=[account]
        )
