"""The window gate, completion check and retention operator inside real DAG runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.evidence import evidence_store
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import DEFAULT_POLICY_FILE
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY

pytestmark = pytest.mark.usefixtures("local_stack")


@pytest.fixture
def use_window(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """Write a policy whose window is given in a zone where it is now about noon."""
    now = datetime.now(UTC)
    offset = 12 - now.hour  # Etc/GMT-N is N hours *ahead* of UTC
    zone = "UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"

    def write(start: str, end: str) -> None:
        policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
        policy["schedule"]["window"] = {"start": start, "end": end, "timezone": zone}
        path = tmp_path / "policy.yaml"
        path.write_text(yaml.safe_dump(policy))
        monkeypatch.setenv("BACKUP_POLICY_FILE", str(path))

    return write


def run_probe(dag_bag: Any, dag_id: str, **conf: Any) -> Any:
    """dag.test() with every param given: a run_conf sticks to the DAG object for later runs."""
    defaults = {"window_probe": {"override_window": False}, "retention_probe": {"dry_run": False}}
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
    sns, sqs = aws_client(settings, "sns", "eu-west-2"), aws_client(settings, "sqs", "eu-west-2")
    queue = sqs.create_queue(QueueName=f"alerts-{datetime.now(UTC):%H%M%S%f}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = sns.create_topic(Name="backup-alerts")["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    use_window("09:00", "11:00")

    run = run_probe(dag_bag, "window_probe", override_window=True)
    assert run.state == "success"
    record = window_record(run)
    assert record.details["override"] is True and record.details["breached"] is True
    assert record.outcome == "warn"
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    assert "Backup window breached: window_probe" in json.loads(messages[0]["Body"])["Subject"]


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


def make_snapshot(rds: Any, snapshot_id: str, tags: dict[str, str]) -> None:
    rds.create_db_snapshot(
        DBInstanceIdentifier="swl-customers-prod",
        DBSnapshotIdentifier=snapshot_id,
        Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
    )


def test_retention_deletes_only_what_the_policy_allows(
    dag_bag: Any, settings: LocalSettings
) -> None:
    rds = aws_client(settings, "rds", "eu-west-2")
    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    ours = {OWNER_KEY: OWNER_VALUE}
    make_snapshot(rds, f"ret-{stamp}-verified-a", {**ours, VERIFIED_KEY: "true"})
    make_snapshot(rds, f"ret-{stamp}-verified-b", {**ours, VERIFIED_KEY: "true"})
    make_snapshot(rds, f"ret-{stamp}-verified-c", {**ours, VERIFIED_KEY: "true"})
    make_snapshot(rds, f"ret-{stamp}-foreign", {"owner": "someone-else"})
    # Completion times say how old each backup is; a, b, c are a month old, d is new.
    for name, age in (("verified-a", 31), ("verified-b", 30), ("verified-c", 29)):
        arn = rds.describe_db_snapshots(DBSnapshotIdentifier=f"ret-{stamp}-{name}")["DBSnapshots"][
            0
        ]["DBSnapshotArn"]
        completed = (datetime.now(UTC) - timedelta(days=age)).isoformat()
        rds.add_tags_to_resource(
            ResourceName=arn, Tags=[{"Key": COMPLETED_KEY, "Value": completed}]
        )
    make_snapshot(rds, f"ret-{stamp}-young", ours)
    planned = run_probe(dag_bag, "retention_probe", dry_run=True)
    assert planned.state == "success"
    still_there = {
        s["DBSnapshotIdentifier"]
        for s in rds.describe_db_snapshots(DBInstanceIdentifier="swl-customers-prod")["DBSnapshots"]
    }
    assert f"ret-{stamp}-verified-a" in still_there  # a dry run deletes nothing

    run = run_probe(dag_bag, "retention_probe")
    assert run.state == "success"
    left = {
        s["DBSnapshotIdentifier"]
        for s in rds.describe_db_snapshots(DBInstanceIdentifier="swl-customers-prod")["DBSnapshots"]
    }
    # keep_verified is 2 in the shipped policy: b and c stay, a (oldest verified) goes.
    assert f"ret-{stamp}-verified-a" not in left
    assert {
        f"ret-{stamp}-verified-b",
        f"ret-{stamp}-verified-c",
        f"ret-{stamp}-foreign",
        f"ret-{stamp}-young",
    } <= left
    record = evidence_store().get(
        "retention", "rds/swl-customers-prod", "retention_probe", run.run_id
    )
    assert (
        record.details["status"] == "done"
        and f"ret-{stamp}-verified-a" in record.details["deleted"]
    )
    reasons = {d["backup_id"]: d["reason"] for d in record.details["plan"]}
    assert "no owner tag" in reasons[f"ret-{stamp}-foreign"]
    assert "younger than the policy minimum" in reasons[f"ret-{stamp}-young"]
