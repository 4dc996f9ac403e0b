"""The manual RDS snapshots of one DB instance in one region, as a backup inventory."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from include.dr.aws_clients import hook_clients
from include.dr.errors import is_not_found
from include.dr.retention import Backup
from include.dr.tags import COMPLETED_KEY, as_mapping, is_ours, is_verified

if TYPE_CHECKING:
    from types_boto3_rds import RDSClient


class RdsSnapshotInventory:
    """Snapshots of ``instance``: ours when owner-tagged, finished when ``available``."""

    def __init__(self, rds: RDSClient, instance: str) -> None:
        self.rds = rds
        self.instance = instance

    @classmethod
    def open(cls, *, instance: str, aws_conn_id: str, region_name: str) -> RdsSnapshotInventory:
        return cls(hook_clients(aws_conn_id)("rds", region_name), instance)

    def list_backups(self) -> list[Backup]:
        backups = []
        pages = self.rds.get_paginator("describe_db_snapshots").paginate(
            DBInstanceIdentifier=self.instance, SnapshotType="manual"
        )
        for page in pages:
            for snapshot in page["DBSnapshots"]:
                # Tag filters are not supported everywhere (moto), so read tags per snapshot.
                tags = as_mapping(
                    self.rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])[
                        "TagList"
                    ]
                )
                backups.append(
                    Backup(
                        backup_id=snapshot["DBSnapshotIdentifier"],
                        completed_at=_completed_at(dict(snapshot), tags),
                        finished=snapshot.get("Status") == "available",
                        verified=is_verified(tags),
                        ours=is_ours(tags),
                        state=str(snapshot.get("Status", "")),
                    )
                )
        return backups

    def delete(self, backup_id: str) -> bool:
        try:
            self.rds.delete_db_snapshot(DBSnapshotIdentifier=backup_id)
        except ClientError as exc:
            if is_not_found(exc):
                return False
            raise
        return True

    def locked_until(self, backup_id: str) -> datetime | None:
        """RDS has no lock on a snapshot: deleting it is final."""
        return None


def _completed_at(snapshot: dict[str, Any], tags: dict[str, str]) -> datetime:
    """The completion time our DAG tagged, else the snapshot's creation time."""
    if COMPLETED_KEY in tags:
        return datetime.fromisoformat(tags[COMPLETED_KEY])
    created: datetime = snapshot["SnapshotCreateTime"]
    return created
