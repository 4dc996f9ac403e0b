"""A ``DeleteObjects`` answer that refuses some keys: nothing claims a deletion that did not
happen.

S3 answers 200 to ``DeleteObjects`` even when it deleted none of the keys; the keys it did
not delete come back in ``Errors``. moto never refuses a key, so this pure logic runs
against an in-process stand-in for S3 that refuses the keys it is told to.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from include.dr.errors import Permanent, Transient
from include.dr.inventory import DeletionIncomplete, DeletionRefused, DeletionThrottled
from include.dr.inventory.dated_folders import DELETE_BATCH, DatedFolderInventory
from include.dr.operators import retention as retention_operator
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY
from include.dr.task_boundary import PermanentFailure

BUCKET = "dr-bucket"
PREFIX = "rds/swl-customers-prod/"
NOW = datetime.now(UTC)


class FakeS3:
    """Lists objects, keeps their tags, and refuses to delete the keys in ``refuse``."""

    def __init__(self, keys: dict[str, datetime], refuse: dict[str, str] | None = None) -> None:
        self.objects = dict(keys)
        self.refuse = refuse or {}
        self.requests: list[list[str]] = []

    def get_paginator(self, name: str) -> Any:
        assert name == "list_objects_v2"
        return SimpleNamespace(paginate=self._pages)

    def _pages(self, *, Bucket: str, Prefix: str) -> list[dict[str, Any]]:  # noqa: N803
        contents = [
            {"Key": key, "LastModified": modified}
            for key, modified in sorted(self.objects.items())
            if key.startswith(Prefix)
        ]
        return [{"Contents": contents}]

    def get_object_tagging(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        completed = self.objects[Key].isoformat()
        tags = {OWNER_KEY: OWNER_VALUE, VERIFIED_KEY: "true", COMPLETED_KEY: completed}
        return {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        return {}  # no Object Lock here

    def delete_objects(self, *, Bucket: str, Delete: dict[str, Any]) -> dict[str, Any]:  # noqa: N803
        assert len(Delete["Objects"]) <= 1000, "S3 refuses more than 1,000 keys a request"
        keys = [item["Key"] for item in Delete["Objects"]]
        self.requests.append(keys)
        errors = []
        for key in keys:
            if key in self.refuse:
                code = self.refuse[key]
                errors.append({"Key": key, "Code": code, "Message": f"{code} for {key}"})
            else:
                self.objects.pop(key, None)
        answer: dict[str, Any] = {"ResponseMetadata": {"HTTPStatusCode": 200}}
        if errors:
            answer["Errors"] = errors
        return answer


def folder(day: str, modified: datetime) -> dict[str, datetime]:
    return {f"{PREFIX}{day}/part-1.sql.gz": modified, f"{PREFIX}{day}/meta.json": modified}


def inventory(s3: FakeS3) -> DatedFolderInventory:
    return DatedFolderInventory(s3, BUCKET, PREFIX, ".sql.gz")


def test_a_refused_key_is_not_reported_deleted_and_access_denied_is_permanent() -> None:
    old = NOW - timedelta(days=30)
    refused = f"{PREFIX}2026-01-01/part-1.sql.gz"
    s3 = FakeS3(folder("2026-01-01", old), refuse={refused: "AccessDenied"})
    with pytest.raises(DeletionRefused) as raised:
        inventory(s3).delete(f"{PREFIX}2026-01-01/")
    error = raised.value
    assert isinstance(error, Permanent) and not isinstance(error, Transient)
    assert [item["key"] for item in error.failed] == [refused]
    assert error.failed[0]["code"] == "AccessDenied"
    assert error.deleted == 1
    assert refused in s3.objects and "s3:DeleteObject" in str(error) and refused in str(error)


@pytest.mark.parametrize("code", ["SlowDown", "InternalError", "ServiceUnavailable"])
def test_throttling_or_an_internal_error_is_transient(code: str) -> None:
    s3 = FakeS3(
        folder("2026-01-01", NOW - timedelta(days=30)),
        refuse={f"{PREFIX}2026-01-01/meta.json": code},
    )
    with pytest.raises(DeletionThrottled) as raised:
        inventory(s3).delete(f"{PREFIX}2026-01-01/")
    assert isinstance(raised.value, Transient) and not isinstance(raised.value, Permanent)


def test_one_permanent_refusal_among_transient_ones_is_permanent() -> None:
    s3 = FakeS3(
        folder("2026-01-01", NOW - timedelta(days=30)),
        refuse={
            f"{PREFIX}2026-01-01/meta.json": "SlowDown",
            f"{PREFIX}2026-01-01/part-1.sql.gz": "AccessDenied",
        },
    )
    with pytest.raises(DeletionRefused):
        inventory(s3).delete(f"{PREFIX}2026-01-01/")


def test_a_key_already_gone_counts_as_deleted() -> None:
    s3 = FakeS3(
        folder("2026-01-01", NOW - timedelta(days=30)),
        refuse={f"{PREFIX}2026-01-01/meta.json": "NoSuchKey"},
    )
    assert inventory(s3).delete(f"{PREFIX}2026-01-01/") is True


def test_every_batch_is_checked_and_no_request_exceeds_a_thousand_keys() -> None:
    old = NOW - timedelta(days=30)
    keys = {f"{PREFIX}2026-01-01/part-{n:05}.sql.gz": old for n in range(DELETE_BATCH + 5)}
    last = max(keys)
    s3 = FakeS3(keys, refuse={last: "AccessDenied"})  # refused in the second request
    with pytest.raises(DeletionIncomplete) as raised:
        inventory(s3).delete(f"{PREFIX}2026-01-01/")
    assert [len(batch) for batch in s3.requests] == [DELETE_BATCH, 5]
    assert [item["key"] for item in raised.value.failed] == [last]
    assert raised.value.deleted == DELETE_BATCH + 4


# The operator: records every outcome first, then fails the task.


def run_retention(
    s3: FakeS3, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, Any]], BaseException | None, Any]:
    recorded: list[dict[str, Any]] = []
    policy = SimpleNamespace(retention=SimpleNamespace(minimum_days=7, keep_verified=1))
    monkeypatch.setattr(retention_operator, "load_policy", lambda: policy)
    monkeypatch.setattr(retention_operator, "open_inventory", lambda name, **_: inventory(s3))
    monkeypatch.setattr(
        retention_operator, "record_evidence", lambda **record: recorded.append(record)
    )
    operator = retention_operator.PolicyRetentionOperator(
        task_id="apply_retention",
        asset="rds/swl-customers-prod",
        inventory="rds_dumps",
        inventory_args={},
    )
    context = {"dag": SimpleNamespace(dag_id="probe"), "run_id": "r1", "logical_date": NOW}
    try:
        return recorded, None, operator.execute(context)
    except BaseException as error:  # noqa: BLE001 - the test inspects what was raised
        return recorded, error, None


def estate(refuse: dict[str, str]) -> FakeS3:
    keys = {
        **folder("2026-01-01", NOW - timedelta(days=40)),
        **folder("2026-01-02", NOW - timedelta(days=39)),
        **folder("2026-02-09", NOW - timedelta(days=1)),  # young: kept
    }
    return FakeS3(keys, refuse=refuse)


def test_the_operator_records_a_refused_backup_as_not_deleted_then_fails_permanently(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = f"{PREFIX}2026-01-01/meta.json"
    recorded, error, _ = run_retention(estate({refused: "AccessDenied"}), monkeypatch)
    done = recorded[-1]
    assert done["outcome"] == "fail"
    details = done["details"]
    assert details["status"] == "done"
    assert details["deleted"] == [f"{PREFIX}2026-01-02/"]  # the other deletion went ahead
    assert f"{PREFIX}2026-01-01/" not in details["deleted"]
    assert f"{PREFIX}2026-01-01/" not in details["already_gone"]
    gone_wrong = details["not_deleted"][f"{PREFIX}2026-01-01/"]
    assert gone_wrong["objects_not_deleted"] == 1 and gone_wrong["objects_deleted"] == 1
    assert gone_wrong["keys"][0]["key"] == refused and gone_wrong["transient"] is False
    assert isinstance(error, PermanentFailure)  # failed at once, no retries
    assert f"{PREFIX}2026-01-01/" in str(error) and "AccessDenied" in str(error)


def test_the_operator_retries_when_s3_only_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded, error, _ = run_retention(
        estate({f"{PREFIX}2026-01-02/part-1.sql.gz": "SlowDown"}), monkeypatch
    )
    details = recorded[-1]["details"]
    assert details["deleted"] == [f"{PREFIX}2026-01-01/"]
    assert details["not_deleted"][f"{PREFIX}2026-01-02/"]["transient"] is True
    assert isinstance(error, Transient) and not isinstance(error, PermanentFailure)


def test_the_operator_passes_when_every_key_is_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    recorded, error, result = run_retention(estate({}), monkeypatch)
    assert error is None
    assert recorded[-1]["outcome"] == "pass" and recorded[-1]["details"]["not_deleted"] == {}
    assert result == {"kept": 1, "deleted": 2, "already_gone": 0}
