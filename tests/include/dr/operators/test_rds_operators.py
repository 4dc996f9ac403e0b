"""The snapshot operators' decisions, with an in-process stand-in for the RDS API.

moto cannot put a snapshot into a failed state, so this pure logic is checked
against a fake client; the real round trip is in tests/integration.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from include.dr.operators.rds import RdsDailySnapshotOperator

PLAN = {
    "instance": "swl-customers-prod",
    "snapshot_id": "swl-customers-prod-2026-11-27",
    "day": "2026-11-27",
    "production_region": "eu-west-2",
    "dr_region": "eu-west-1",
}


class FakeRds:
    def __init__(self, status: str | None) -> None:
        self.status = status
        self.created: list[str] = []

    def describe_db_snapshots(self, DBSnapshotIdentifier: str) -> dict[str, Any]:  # noqa: N803
        if self.status is None:
            from botocore.exceptions import ClientError

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
