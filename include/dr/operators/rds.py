"""Operators for the daily RDS snapshot and its encrypted copy in the DR region.

Custom because the provider's ``RdsCreateDbSnapshotOperator`` and
``RdsCopyDbSnapshotOperator`` cannot defer (a snapshot takes hours on real AWS),
fail when the snapshot already exists (so a re-run could not resume), and the
copy operator does not template ``kms_key_id`` or ``source_region``. These
create once per instance and day, reuse what a previous try made, and wait in
the triggerer. ``CreateDBSnapshot`` needs the instance ``available``, so the
daily snapshot first waits, deferred and bounded, for an instance that is busy
(its own automated backup, a modification, maintenance). What a snapshot is, when
it failed and whether the instance can be snapshotted is decided in
:mod:`include.dr.rds.snapshots`; errors reach Airflow through the task boundary.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from botocore.exceptions import ClientError

from include.dr.kms import KeyUnavailable, resolve_key
from include.dr.rds.snapshots import (
    InstanceBusy,
    SnapshotFailed,
    describe_snapshot,
    refuse_failed,
    snapshot_create_error,
    snapshot_facts,
    snapshot_readiness,
)
from include.dr.tags import owner_tags
from include.dr.task_boundary import task_boundary

if TYPE_CHECKING:
    from types_boto3_rds import RDSClient

    from include.dr.rds.plans import InstancePlan


class _SnapshotOperator(BaseOperator):
    """Create-once-then-wait, shared by the snapshot and the copy."""

    template_fields: Sequence[str] = ("plan",)
    result_key = "snapshot"

    def __init__(
        self,
        *,
        plan: InstancePlan,
        aws_conn_id: str = "aws_default",
        waiter_delay: int = 30,
        waiter_max_attempts: int = 720,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.aws_conn_id = aws_conn_id
        self.waiter_delay = waiter_delay
        self.waiter_max_attempts = waiter_max_attempts

    @property
    def region(self) -> str:
        raise NotImplementedError

    def rds(self) -> RDSClient:
        from airflow.providers.amazon.aws.hooks.rds import RdsHook

        client: RDSClient = RdsHook(aws_conn_id=self.aws_conn_id, region_name=self.region).conn
        return client

    def create(self, rds: RDSClient, context: Any) -> None:
        raise NotImplementedError

    def before_create(self, rds: RDSClient) -> None:
        """Defer (raise ``TaskDeferred``) when the source cannot be used yet; no-op here."""

    def execute(self, context: Any) -> InstancePlan:
        with task_boundary(f"{self.task_id} in {self.region}"):
            rds = self.rds()
            snapshot_id = self.plan["snapshot_id"]
            existing = describe_snapshot(rds, snapshot_id)
            if existing is None:
                self.before_create(rds)
                self.create(rds, context)
            elif existing.get("Status") == "available":
                self.log.info(
                    "Snapshot %s in %s already exists; reusing it", snapshot_id, self.region
                )
                return self._result(existing)
            else:
                refuse_failed(existing, self.region)
                self.log.info(
                    "Snapshot %s is %s; waiting for it", snapshot_id, existing.get("Status")
                )
        # Imported here: the trigger pulls in boto3 through the provider's RDS hook, which the
        # DAG file parsing this module must not load.
        from include.dr.triggers.rds import RdsSnapshotAvailableTrigger

        self.defer(
            trigger=RdsSnapshotAvailableTrigger(
                snapshot_id=snapshot_id,
                waiter_delay=self.waiter_delay,
                waiter_max_attempts=self.waiter_max_attempts,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> InstancePlan:
        with task_boundary(f"{self.task_id} in {self.region}"):
            snapshot_id = self.plan["snapshot_id"]
            found = describe_snapshot(self.rds(), snapshot_id)
            if not event or event.get("status") != "success" or found is None:
                if found is not None:
                    refuse_failed(found, self.region)
                message = (event or {}).get("message", "no event")
                raise SnapshotFailed(
                    f"RDS snapshot {snapshot_id} in {self.region} did not become available "
                    f"({message}); it is not a backup and nothing later relies on it"
                )
            return self._result(found)

    def _result(self, snapshot: dict[str, Any]) -> InstancePlan:
        facts = snapshot_facts(snapshot)
        if self.result_key == "copy":
            return {**self.plan, "copy": facts}
        return {**self.plan, "snapshot": facts}


class RdsDailySnapshotOperator(_SnapshotOperator):
    """Snapshot the instance once for the run's day, tagged as ours, and wait for it.

    A busy instance is first waited for in the triggerer, at most
    ``instance_waiter_delay`` x ``instance_waiter_max_attempts`` seconds (an hour by
    default); past that the task fails as transient and is retried with backoff.
    """

    ui_color = "#e8daef"

    def __init__(
        self,
        *,
        instance_waiter_delay: int = 30,
        instance_waiter_max_attempts: int = 120,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.instance_waiter_delay = instance_waiter_delay
        self.instance_waiter_max_attempts = instance_waiter_max_attempts

    @property
    def region(self) -> str:
        return str(self.plan["production_region"])

    def instance_status(self, rds: RDSClient) -> str:
        found = rds.describe_db_instances(DBInstanceIdentifier=self.plan["instance"])
        return str(found["DBInstances"][0].get("DBInstanceStatus", ""))

    def before_create(self, rds: RDSClient) -> None:
        instance = self.plan["instance"]
        status = self.instance_status(rds)
        if snapshot_readiness(instance, status, self.region) == "snapshot":
            return
        self.log.info("RDS instance %s is %s; waiting for it to be available", instance, status)
        from airflow.providers.amazon.aws.triggers.rds import RdsDbAvailableTrigger

        self.defer(
            trigger=RdsDbAvailableTrigger(
                db_identifier=instance,
                waiter_delay=self.instance_waiter_delay,
                waiter_max_attempts=self.instance_waiter_max_attempts,
                aws_conn_id=self.aws_conn_id,
                region_name=self.region,
                response={},
                db_type="instance",
            ),
            method_name="execute_when_instance_available",
        )

    def execute_when_instance_available(
        self, context: Any, event: dict[str, Any] | None = None
    ) -> InstancePlan:
        """Back from the instance wait: start over (look, create, wait for the snapshot), or
        fail as transient, naming the bound, when the instance never became available."""
        if not event or event.get("status") != "success":
            with task_boundary(f"{self.task_id} in {self.region}"):
                status = self.instance_status(self.rds())
                if snapshot_readiness(self.plan["instance"], status, self.region) == "snapshot":
                    return self.execute(context)  # available just as the wait gave up
                minutes = self.instance_waiter_delay * self.instance_waiter_max_attempts // 60
                raise InstanceBusy(
                    f"RDS instance {self.plan['instance']} in {self.region} was not available "
                    f"within {minutes} minutes (it is {status}; "
                    f"{(event or {}).get('message', 'no event')}); no snapshot was made. The "
                    "task is retried with backoff; if the instance stays busy, find what holds "
                    "it (a modification, maintenance, an automated backup overrunning its window)"
                )
        return self.execute(context)

    def create(self, rds: RDSClient, context: Any) -> None:
        self.log.info("Creating snapshot %s of %s", self.plan["snapshot_id"], self.plan["instance"])
        tags: list[Any] = [
            *owner_tags(),
            {"Key": "backup-day", "Value": self.plan["day"]},
            {"Key": "backup-run", "Value": context["run_id"][:256]},
        ]
        try:
            rds.create_db_snapshot(
                DBInstanceIdentifier=self.plan["instance"],
                DBSnapshotIdentifier=self.plan["snapshot_id"],
                Tags=tags,
            )
        except ClientError as exc:
            busy = snapshot_create_error(exc, self.plan["instance"], self.region)
            if busy is None:
                raise
            raise busy from exc


class RdsCopySnapshotToRegionOperator(_SnapshotOperator):
    """Copy the day's snapshot into the DR region, re-encrypted with the DR key, and wait."""

    ui_color = "#e8daef"
    result_key = "copy"

    @property
    def region(self) -> str:
        return str(self.plan["dr_region"])

    def create(self, rds: RDSClient, context: Any) -> None:
        key_arn = self._dr_key_arn()
        self.log.info(
            "Copying %s to %s with key %s", self.plan["snapshot"]["arn"], self.region, key_arn
        )
        rds.copy_db_snapshot(
            SourceDBSnapshotIdentifier=self.plan["snapshot"]["arn"],
            TargetDBSnapshotIdentifier=self.plan["snapshot_id"],
            KmsKeyId=key_arn,
            CopyTags=True,
            SourceRegion=self.plan["production_region"],
        )

    def _dr_key_arn(self) -> str:
        """Resolve the DR key before copying: a real cross-region copy of an encrypted snapshot
        needs one, and a missing key must stop the run (not retried) before anything is made."""
        from include.dr.aws_clients import hook_clients

        kms = hook_clients(self.aws_conn_id)("kms", self.region)
        try:
            return resolve_key(kms, self.plan["dr_kms_key"], self.region)
        except KeyUnavailable as exc:
            raise KeyUnavailable(f"{exc}. Nothing was copied.") from None
