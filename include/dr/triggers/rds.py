"""Wait for an RDS snapshot to become available, in the triggerer.

Custom because the Amazon provider's snapshot operators cannot defer and it has
no snapshot trigger. It reuses the provider's waiter machinery
(``AwsBaseWaiterTrigger``) with botocore's ``db_snapshot_available`` waiter,
which stops early on the failed states.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.rds import RdsHook
from airflow.providers.amazon.aws.triggers.base import AwsBaseWaiterTrigger


class RdsSnapshotAvailableTrigger(AwsBaseWaiterTrigger):
    """Fires when ``snapshot_id`` in ``region_name`` is available, or with an error."""

    aws_hook_class = RdsHook

    def __init__(
        self,
        snapshot_id: str,
        waiter_delay: int,
        waiter_max_attempts: int,
        aws_conn_id: str | None,
        region_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            serialized_fields={"snapshot_id": snapshot_id},
            waiter_name="db_snapshot_available",
            waiter_args={"DBSnapshotIdentifier": snapshot_id},
            failure_message=f"RDS snapshot {snapshot_id} did not become available",
            status_message=f"waiting for RDS snapshot {snapshot_id}",
            status_queries=["DBSnapshots[0].Status"],
            return_key="snapshot_id",
            return_value=snapshot_id,
            waiter_delay=waiter_delay,
            waiter_max_attempts=waiter_max_attempts,
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            **kwargs,
        )
