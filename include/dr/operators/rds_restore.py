"""Restore a new RDS instance from a snapshot or a point in time, and wait in the triggerer.

Custom because the Amazon provider has no restore operator. It waits with the
provider's ``RdsDbAvailableTrigger``. A retry finds the instance an earlier try
started (it carries this run's tag) and waits for it instead of failing; an
instance of the same name that is not this run's is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from botocore.exceptions import ClientError

from include.dr.connections import AWS_DR
from include.dr.errors import is_not_found
from include.dr.restores import RestoreIncomplete, refuse
from include.dr.tags import OWNER_KEY, as_mapping, owner_tags
from include.dr.task_boundary import task_boundary

if TYPE_CHECKING:
    from types_boto3_rds import RDSClient

RUN_TAG = "restore-run"


class RdsRestoreInstanceOperator(BaseOperator):
    """Start the restore the plan describes (``snapshot_id`` or ``restore_time``); defer.

    :param plan: the validated request (templated; from the validation task's XCom).
    """

    template_fields: Sequence[str] = ("plan",)
    ui_color = "#d6eaf8"

    def __init__(
        self,
        *,
        plan: Any,
        aws_conn_id: str = AWS_DR,
        waiter_delay: int = 30,
        waiter_max_attempts: int = 240,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.aws_conn_id = aws_conn_id
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    @property
    def conn_id(self) -> str:
        """The plan's side: production for a point in time there, else the DR side."""
        return str(self.plan.get("aws_conn_id") or self.aws_conn_id)

    def rds(self) -> RDSClient:
        from airflow.providers.amazon.aws.hooks.rds import RdsHook

        client: RDSClient = RdsHook(aws_conn_id=self.conn_id, region_name=self.plan["region"]).conn
        return client

    def execute(self, context: Any) -> dict[str, Any] | None:
        from airflow.providers.amazon.aws.triggers.rds import RdsDbAvailableTrigger

        if self.plan.get("dry_run", True):
            self.log.info("Dry run: no instance restored (%s)", self.plan.get("target_instance"))
            return None
        target = self.plan["target_instance"]
        with task_boundary(f"restoring {target}"):
            rds = self.rds()
            if self._ours(rds, target, context["run_id"]) is None:
                self._start(rds, context["run_id"])
        self.defer(
            trigger=RdsDbAvailableTrigger(
                db_identifier=target,
                waiter_delay=self.waiter_delay,
                waiter_max_attempts=self.waiter_max_attempts,
                aws_conn_id=self.conn_id,
                region_name=self.plan["region"],
                response={},
                db_type="instance",
            ),
            method_name="execute_complete",
        )
        return None

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
        with task_boundary(f"restoring {self.plan['target_instance']}"):
            if not event or event.get("status") != "success":
                raise RestoreIncomplete(
                    f"{self.plan['target_instance']} did not become available: {event}"
                )
            instance = self.rds().describe_db_instances(
                DBInstanceIdentifier=self.plan["target_instance"]
            )["DBInstances"][0]
        endpoint = instance.get("Endpoint") or {}
        created = instance.get("InstanceCreateTime")
        return {
            "instance": instance["DBInstanceIdentifier"],
            "status": instance.get("DBInstanceStatus"),
            "endpoint": f"{endpoint.get('Address')}:{endpoint.get('Port')}",
            "publicly_accessible": bool(instance.get("PubliclyAccessible")),
            "encrypted": bool(instance.get("StorageEncrypted")),
            "kms_key_id": instance.get("KmsKeyId"),
            "instance_class": instance.get("DBInstanceClass"),
            "region": self.plan["region"],
            # From creation to usable: the restore time on this data.
            "seconds": round((datetime.now(UTC) - created).total_seconds(), 2) if created else None,
        }

    def _ours(self, rds: RDSClient, target: str, run_id: str) -> dict[str, Any] | None:
        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=target)["DBInstances"][0]
        except ClientError as exc:
            if is_not_found(exc):
                return None
            raise
        tags = as_mapping(found.get("TagList", []))
        if tags.get(RUN_TAG) != run_id[:256] or OWNER_KEY not in tags:
            refuse(
                "target_instance",
                f"{target} already exists and is not this restore's",
                "Choose a new name.",
            )
        self.log.info("%s was started by an earlier try; waiting for it", target)
        return dict(found)

    def _start(self, rds: RDSClient, run_id: str) -> None:
        plan = self.plan
        common: dict[str, Any] = {
            "PubliclyAccessible": False,
            "Tags": [*owner_tags(), {"Key": RUN_TAG, "Value": run_id[:256]}],
            "CopyTagsToSnapshot": True,
            "DeletionProtection": False,
        }
        if plan.get("instance_class"):
            common["DBInstanceClass"] = plan["instance_class"]
        if plan.get("subnet_group"):
            common["DBSubnetGroupName"] = plan["subnet_group"]
        if plan.get("security_group_ids"):
            common["VpcSecurityGroupIds"] = plan["security_group_ids"]
        if plan["source"] == "point_in_time":
            source = (
                {"SourceDBInstanceIdentifier": plan["source_instance"]}
                if plan.get("source_instance")
                else {"SourceDBInstanceAutomatedBackupsArn": plan["source_automated_backups_arn"]}
            )
            self.log.info("Restoring %s to %s", plan["target_instance"], plan["restore_time"])
            rds.restore_db_instance_to_point_in_time(
                TargetDBInstanceIdentifier=plan["target_instance"],
                RestoreTime=plan["restore_time"],
                **source,
                **common,
            )
        else:
            self.log.info("Restoring %s from %s", plan["target_instance"], plan["snapshot_id"])
            rds.restore_db_instance_from_db_snapshot(
                DBInstanceIdentifier=plan["target_instance"],
                DBSnapshotIdentifier=plan["snapshot_id"],
                **common,
            )
