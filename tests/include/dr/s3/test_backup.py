"""The S3 backup's steps without a server: whether each fault is retried follows from its
class (a missing or disabled DR key, a failed guardrail and failed objects are permanent;
objects that failed only for throttling or a server error are retried while tries remain)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from include.dr.errors import Permanent, Transient
from include.dr.policy.loader import load_policy
from include.dr.run_info import RunInfo
from include.dr.s3 import backup
from include.dr.s3.engine import PartitionResult, _may_mend
from include.dr.s3.plans import PartitionPlan

RUN = RunInfo("s3_backup", "manual__1", datetime(2026, 11, 26, 12, tzinfo=UTC))
PART: PartitionPlan = {
    "source": "swl-uploads",
    "dr_bucket": "swl-uploads-dr",
    "kms_key_arn": "arn:aws:kms:eu-west-1:1:key/k",
    "partition": {"scope": "", "folders": [], "root": True},
    "manifest_key": ".backup/manifests/swl-uploads/2026-11-26/r/part-000.jsonl.gz",
    "summary_key": ".backup/manifests/swl-uploads/2026-11-26/r/run.json",
}


def aws_error(code: str, status: int) -> ClientError:
    answer: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(answer, "CopyObject")


def test_a_backup_that_cannot_be_made_safely_is_permanent_and_imports_no_airflow() -> None:
    assert issubclass(backup.S3BackupFailed, Permanent)
    assert not any(c.__module__.startswith("airflow") for c in backup.S3BackupFailed.__mro__)


@pytest.mark.parametrize(
    ("error", "mendable"),
    [
        (aws_error("SlowDown", 503), True),
        (aws_error("InternalError", 500), True),
        (EndpointConnectionError(endpoint_url="https://s3"), True),
        (aws_error("AccessDenied", 403), False),
        (aws_error("InvalidObjectState", 403), False),  # archived: no retry restores it
        (ValueError("encrypted with another key"), False),  # a failed verification
    ],
)
def test_an_object_failure_is_mendable_only_for_throttling_servers_and_network(
    error: Exception, mendable: bool
) -> None:
    assert _may_mend(error) is mendable


def copy_with(monkeypatch: pytest.MonkeyPatch, *failures: tuple[str, bool]) -> Any:
    result = PartitionResult(listed=3, copied=3 - len(failures), manifest_key="m")
    for key, transient in failures:
        result.add_failure(key, "SlowDown" if transient else "AccessDenied", transient)
    monkeypatch.setattr(backup, "finished_summary", lambda *_: None)
    monkeypatch.setattr(backup, "back_up_partition", lambda *_: result)
    clients = cast(backup.BackupClients, {"source_s3": None, "dr_s3": None, "dr_kms": None})
    return lambda tries_remain: backup.copy_partition(PART, clients, tries_remain)


def test_objects_throttled_are_retried_while_tries_remain(monkeypatch: pytest.MonkeyPatch) -> None:
    copy = copy_with(monkeypatch, ("a.png", True), ("b.png", True))
    with pytest.raises(Transient, match=r"2 object\(s\) not backed up yet.*a\.png"):
        copy(True)
    last = copy(False)  # the last try: reported, and the record step fails the run
    assert [f["key"] for f in last["failures"]] == ["a.png", "b.png"]


def test_a_failure_no_retry_can_mend_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    copy = copy_with(monkeypatch, ("a.png", True), ("frozen.png", False))
    assert [f["key"] for f in copy(True)["failures"]] == ["a.png", "frozen.png"]


class Kms:
    def __init__(self, state: str) -> None:
        self.state = state

    def describe_key(self, KeyId: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if self.state == "missing":
            raise aws_error("NotFoundException", 400)
        return {"KeyMetadata": {"Arn": f"arn:{KeyId}", "KeyState": self.state}}


class Bucket:
    meta = SimpleNamespace(endpoint_url="https://s3.eu-west-1.amazonaws.com")

    def get_bucket_location(self, Bucket: str) -> dict[str, Any]:  # noqa: N803
        return {"LocationConstraint": "eu-west-2"}


@pytest.mark.parametrize("state", ["Disabled", "PendingDeletion", "missing"])
def test_a_missing_or_disabled_dr_key_fails_the_backup_permanently_and_is_recorded(
    state: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded: list[dict[str, Any]] = []
    monkeypatch.setattr(backup, "record_evidence", lambda **kw: recorded.append(kw))
    policy = load_policy()
    [plan, *_] = backup.plan_buckets(policy, RUN.logical_time, RUN.run_id)
    clients = cast(
        backup.BackupClients, {"source_s3": Bucket(), "dr_s3": Bucket(), "dr_kms": Kms(state)}
    )
    with pytest.raises(backup.S3BackupFailed, match="KMS key") as failed:
        backup.check_buckets(plan, policy, clients, RUN)
    assert isinstance(failed.value, Permanent)
    [evidence] = recorded
    assert evidence["outcome"] == "fail" and evidence["run_id"] == RUN.run_id
    assert evidence["details"]["failed_step"] == "check_buckets"
