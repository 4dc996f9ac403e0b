"""The snapshot operators' decisions, with an in-process stand-in for the RDS API.

moto cannot put a snapshot into a failed state, nor an instance into any state but
``available``, so this logic (and the order of requests) is checked against a fake
client; the normal path on moto is at the end, and the real round trip is in
tests/integration.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred
from botocore.exceptions import ClientError

from include.dr.errors import Transient
from include.dr.operators.rds import RdsDailySnapshotOperator

PLAN = {
    "instance": "swl-customers-prod",
    "snapshot_id": "swl-customers-prod-2026-11-27",
    "day": "2026-11-27",
    "production_region": "eu-west-2",
    "dr_region": "eu-west-1",
}


class FakeRds:
    def __init__(self, status: str | None, instance_status: str = "available") -> None:
        self.status = status
        self.instance_status = instance_status
        self.created: list[str] = []
        self.calls: list[str] = []
        self.refuse_create = False

    def describe_db_instances(self, DBInstanceIdentifier: str) -> dict[str, Any]:  # noqa: N803
        self.calls.append(f"describe_db_instances:{self.instance_status}")
        return {
            "DBInstances": [
                {
                    "DBInstanceIdentifier": DBInstanceIdentifier,
                    "DBInstanceStatus": self.instance_status,
                }
            ]
        }

    def describe_db_snapshots(self, DBSnapshotIdentifier: str) -> dict[str, Any]:  # noqa: N803
        self.calls.append("describe_db_snapshots")
        if self.status is None:
            raise ClientError({"Error": {"Code": "DBSnapshotNotFound"}}, "DescribeDBSnapshots")
        return {
            "DBSnapshots": [
                {
                    "DBSnapshotIdentifier": DBSnapshotIdentifier,
                    "DBSnapshotArn": "arn:aws:rds:eu-west-2:1:snapshot:x",
                    "Status": self.status,
                }
            ]
        }

    def create_db_snapshot(self, **kwargs: Any) -> None:
        self.calls.append("create_db_snapshot")
        if self.refuse_create:
            raise ClientError(
                {"Error": {"Code": "InvalidDBInstanceState", "Message": "backing-up"}},
                "CreateDBSnapshot",
            )
        self.created.append(kwargs["DBSnapshotIdentifier"])
        self.status = "creating"


def operator(fake: FakeRds) -> RdsDailySnapshotOperator:
    op = RdsDailySnapshotOperator(task_id="create_snapshot", plan=PLAN)
    op.rds = lambda: fake  # type: ignore[method-assign]
    return op


CONTEXT = {"run_id": "scheduled__2026-11-27T01:00:00+00:00"}


def test_new_day_creates_once_then_defers() -> None:
    fake = FakeRds(None)
    with pytest.raises(TaskDeferred) as deferred:
        operator(fake).execute(CONTEXT)
    assert fake.created == [PLAN["snapshot_id"]]
    assert deferred.value.trigger.serialize()[1]["snapshot_id"] == PLAN["snapshot_id"]


def test_available_snapshot_is_reused_without_waiting() -> None:
    fake = FakeRds("available")
    result = operator(fake).execute(CONTEXT)
    assert fake.created == [] and result["snapshot"]["status"] == "available"


def test_snapshot_in_progress_is_waited_for_not_remade() -> None:
    fake = FakeRds("creating")
    with pytest.raises(TaskDeferred):
        operator(fake).execute(CONTEXT)
    assert fake.created == []


@pytest.mark.parametrize("status", ["failed", "incompatible-restore", "deleting"])
def test_a_failed_snapshot_fails_the_task_and_is_left_alone(status: str) -> None:
    fake = FakeRds(status)
    with pytest.raises(AirflowFailException, match=f"is {status}, so it is not a backup"):
        operator(fake).execute(CONTEXT)
    assert fake.created == []


def test_a_snapshot_that_fails_while_waited_for_fails_the_task() -> None:
    fake = FakeRds("failed")
    with pytest.raises(AirflowFailException, match="not a backup"):
        operator(fake).execute_complete(
            CONTEXT, {"status": "error", "message": "Waiter encountered a terminal failure state"}
        )


def test_a_busy_instance_is_waited_for_in_the_triggerer_then_snapshotted() -> None:
    fake = FakeRds(None, instance_status="backing-up")
    op = operator(fake)
    with pytest.raises(TaskDeferred) as waiting:
        op.execute(CONTEXT)
    assert fake.created == []  # nothing asked of a busy instance
    trigger = waiting.value.trigger
    assert type(trigger).__name__ == "RdsDbAvailableTrigger"
    assert waiting.value.method_name == "execute_when_instance_available"
    assert trigger.serialize()[1]["db_identifier"] == PLAN["instance"]
    assert trigger.serialize()[1]["waiter_max_attempts"] == 120  # bounded: an hour at 30 s
    fake.instance_status = "available"
    with pytest.raises(TaskDeferred) as snapshotting:
        op.execute_when_instance_available(CONTEXT, {"status": "success"})
    assert snapshotting.value.trigger.serialize()[1]["snapshot_id"] == PLAN["snapshot_id"]
    assert fake.calls == [
        "describe_db_snapshots",
        "describe_db_instances:backing-up",
        "describe_db_snapshots",
        "describe_db_instances:available",
        "create_db_snapshot",
    ]


def test_an_instance_still_busy_after_the_bound_fails_as_transient_naming_it() -> None:
    fake = FakeRds(None, instance_status="modifying")
    with pytest.raises(Transient, match=r"not available within 60 minutes \(it is modifying"):
        operator(fake).execute_when_instance_available(
            CONTEXT, {"status": "error", "message": "Max attempts exceeded"}
        )
    assert fake.created == []


def test_a_stopped_instance_fails_at_once_and_is_not_waited_for() -> None:
    fake = FakeRds(None, instance_status="stopped")
    with pytest.raises(AirflowFailException, match="is stopped, so it cannot be snapshotted"):
        operator(fake).execute(CONTEXT)
    assert fake.created == []


def test_invalid_instance_state_from_create_is_retried_not_failed() -> None:
    fake = FakeRds(None)
    fake.refuse_create = True  # the automated backup began between our look and our request
    with pytest.raises(Transient, match="refused a snapshot because of its state") as busy:
        operator(fake).execute(CONTEXT)
    assert not isinstance(busy.value, AirflowFailException)


def test_the_normal_path_on_moto_creates_the_snapshot_and_waits_for_it(local_stack: Any) -> None:
    import uuid

    from include.dr.aws_clients import hook_clients

    rds = hook_clients("aws_default")("rds", "eu-west-2")
    name = f"snap-{uuid.uuid4().hex[:10]}"
    rds.create_db_instance(
        DBInstanceIdentifier=name, Engine="mysql", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="probe", MasterUserPassword="not-a-secret-moto",
    )  # fmt: skip
    try:
        plan = {**PLAN, "instance": name, "snapshot_id": f"{name}-2026-11-27"}
        op = RdsDailySnapshotOperator(task_id="create_snapshot", plan=plan)  # type: ignore[arg-type]
        op.rds = lambda: rds  # type: ignore[method-assign]
        with pytest.raises(TaskDeferred) as deferred:
            op.execute(CONTEXT)
        assert type(deferred.value.trigger).__name__ == "RdsSnapshotAvailableTrigger"
        [made] = rds.describe_db_snapshots(DBSnapshotIdentifier=plan["snapshot_id"])["DBSnapshots"]
        assert made["DBInstanceIdentifier"] == name
        rds.delete_db_snapshot(DBSnapshotIdentifier=plan["snapshot_id"])
    finally:
        rds.delete_db_instance(DBInstanceIdentifier=name, SkipFinalSnapshot=True)
