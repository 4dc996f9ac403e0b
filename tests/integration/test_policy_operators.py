"""The window gate, completion check and retention operator inside real DAG runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY
from tests.alerts_queue import AlertsQueue

pytestmark = pytest.mark.usefixtures("local_stack")


def run_probe(dag_bag: Any, dag_id: str, **conf: Any) -> Any:
    """dag.test() with every param given: a run_conf sticks to the DAG object for later runs."""
    defaults = {
        "window_probe": {"override_window": False},
        "retention_probe": {"dry_run": False, "instance": "swl-customers-prod"},
    }
    return dag_bag.get_dag(dag_id).test(run_conf={**defaults[dag_id], **conf})


def window_record(run: Any) -> Any:
    return evidence_store().get("window", "window_probe", "window_probe", run.run_id)


def test_gate_passes_inside_the_window(
    dag_bag: Any, use_window: Callable[[str, str], None]
) -> None:
    use_window("11:00", "15:00")
    run = run_probe(dag_bag, "window_probe")
    assert run.state == "success"
    record = window_record(run)
    assert record.details["gate"] == "pass" and record.details["breached"] is False
    assert record.details["override"] is False and record.outcome == "pass"


def test_gate_fails_after_the_window_and_nothing_runs(
    dag_bag: Any, use_window: Callable[[str, str], None]
) -> None:
    use_window("09:00", "11:00")
    run = run_probe(dag_bag, "window_probe")
    assert run.state == "failed"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["open_window_gate"] == "failed"
    assert states["back_up"] == "upstream_failed"
    record = window_record(run)
    assert record.outcome == "fail" and "override_window" in record.details["reason"]


def test_override_runs_late_work_keeps_it_and_alerts_once(
    dag_bag: Any, use_window: Callable[[str, str], None], settings: LocalSettings
) -> None:
    queue = AlertsQueue(settings)
    use_window("09:00", "11:00")

    run = run_probe(dag_bag, "window_probe", override_window=True)
    assert run.state == "success"
    record = window_record(run)
    assert record.details["override"] is True and record.details["breached"] is True
    assert record.outcome == "warn"
    alerts = queue.received()
    assert len(alerts) == 1
    assert "Backup window breached: window_probe" in alerts[0]["Subject"]


def test_gate_defers_until_the_window_opens(
    dag_bag: Any, use_window: Callable[[str, str], None]
) -> None:
    started = datetime.now(UTC)
    local_now = started + timedelta(hours=12 - started.hour)
    use_window((local_now + timedelta(minutes=1)).strftime("%H:%M"), "15:00")
    run = run_probe(dag_bag, "window_probe")
    assert run.state == "success"
    record = window_record(run)
    opens_at = datetime.fromisoformat(record.details["window"]["opens_at"])
    # The window opened after the run began, yet the gate passed: it waited (deferred) for it.
    assert started < opens_at <= datetime.fromisoformat(record.details["gate_checked_at"])
    assert record.details["gate"] == "pass"


def test_retention_deletes_only_what_the_policy_allows(
    dag_bag: Any, settings: LocalSettings
) -> None:
    rds = aws_client(settings, "rds", "eu-west-2")
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    instance = f"retention-probe-{stamp}"  # its own instance: no other test's snapshots
    rds.create_db_instance(
        DBInstanceIdentifier=instance,
        Engine="mysql",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="probe",
        MasterUserPassword="not-a-secret-moto",
    )
    ours = {OWNER_KEY: OWNER_VALUE}
    ages = {"verified-a": 31, "verified-b": 30, "verified-c": 29, "foreign": 40, "young": None}
    for name, age in ages.items():
        tags = {"owner": "someone-else"} if name == "foreign" else dict(ours)
        if name.startswith("verified"):
            tags[VERIFIED_KEY] = "true"
        if age is not None:
            tags[COMPLETED_KEY] = (datetime.now(UTC) - timedelta(days=age)).isoformat()
        rds.create_db_snapshot(
            DBInstanceIdentifier=instance,
            DBSnapshotIdentifier=f"{instance}-{name}",
            Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
        )

    def remaining() -> set[str]:
        found = rds.describe_db_snapshots(DBInstanceIdentifier=instance, SnapshotType="manual")
        return {
            s["DBSnapshotIdentifier"].removeprefix(f"{instance}-") for s in found["DBSnapshots"]
        }

    planned = run_probe(dag_bag, "retention_probe", instance=instance, dry_run=True)
    assert planned.state == "success"
    assert remaining() == set(ages)  # a dry run deletes nothing

    run = run_probe(dag_bag, "retention_probe", instance=instance)
    assert run.state == "success"
    # keep_verified is 2 in the shipped policy: b and c stay, a (oldest verified) goes;
    # the foreign snapshot is older still, but not ours.
    assert remaining() == {"verified-b", "verified-c", "foreign", "young"}
    record = evidence_store().get("retention", f"rds/{instance}", "retention_probe", run.run_id)
    assert record.details["status"] == "done"
    assert record.details["deleted"] == [f"{instance}-verified-a"]
    reasons = {
        d["backup_id"].removeprefix(f"{instance}-"): d["reason"] for d in record.details["plan"]
    }
    assert "no owner tag" in reasons["foreign"]
    assert "younger than the policy minimum" in reasons["young"]
    assert "newest 2 verified" in reasons["verified-c"]

    again = run_probe(dag_bag, "retention_probe", instance=instance)
    assert again.state == "success"
    assert remaining() == {"verified-b", "verified-c", "foreign", "young"}
