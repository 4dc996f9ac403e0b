"""The S3 restore's pure parts: the request check (an empty *as of* means the latest
backup) and its refusals by field, the choice of the backup run, each run's own
manifest folder, and which DR versions a manifest entry names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError

from include.dr.errors import Transient
from include.dr.policy.loader import load_policy
from include.dr.restores import RestoreRefused
from include.dr.s3.backup import plan_buckets
from include.dr.s3.layout import manifest_prefix, run_key, summary_key
from include.dr.s3.plans import RestorePlan, RestoreRequest
from include.dr.s3.restore import VersionIndex, plan_restore, validate_request

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

NOW = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
POLICY = load_policy()
SOURCE = POLICY.assets.s3[0].source


def request(**params: object) -> RestoreRequest:
    return validate_request(
        {"source_bucket": SOURCE, "target_bucket": "restore-scratch", **params}, POLICY, NOW
    )


@pytest.mark.parametrize("empty", ["", "   ", None])
def test_an_empty_as_of_means_the_latest_backup(empty: str | None) -> None:
    assert request(as_of=empty)["as_of"] == NOW.isoformat()


def test_a_missing_as_of_means_the_latest_backup() -> None:
    assert request()["as_of"] == NOW.isoformat()


@pytest.mark.parametrize(
    ("as_of", "problem"),
    [("yesterday", "is not a date and time"), ("2999-01-01T00:00:00", "is in the future")],
)
def test_an_as_of_that_is_not_a_past_time_is_still_refused(as_of: str, problem: str) -> None:
    with pytest.raises(RestoreRefused, match=problem) as refused:
        request(as_of=as_of)
    assert refused.value.field == "as_of"


def test_a_given_as_of_is_kept_in_utc() -> None:
    assert request(as_of="2026-11-20T10:00:00")["as_of"] == "2026-11-20T10:00:00+00:00"


def test_each_run_has_its_own_manifest_folder_and_a_retry_of_a_run_the_same() -> None:
    noon = datetime(2026, 11, 26, 12, tzinfo=UTC)
    first = run_key(noon, "scheduled__2026-11-26T12:00:00+00:00")
    assert first == run_key(noon, "scheduled__2026-11-26T12:00:00+00:00")  # retried, cleared
    second = run_key(noon + timedelta(minutes=1), "manual__2026-11-26T12:01:00+00:00")
    assert second != first and second > first  # a day's runs sort by logical time
    assert run_key(noon, "manual__other") != first  # same logical time, another run
    [plan] = plan_buckets(POLICY, noon, "scheduled__2026-11-26T12:00:00+00:00")[:1]
    assert plan["run"] == first
    folder = manifest_prefix(SOURCE, plan["day"], first)
    assert folder == f".backup/manifests/{SOURCE}/{plan['day']}/{first}/"
    assert summary_key(SOURCE, plan["day"], first) == f"{folder}run.json"


def test_a_manifest_entry_names_a_version_by_id_or_by_the_time_it_was_written() -> None:
    written = datetime(2026, 11, 25, 1, 2, 3, tzinfo=UTC)
    index = VersionIndex({("a.txt", written.isoformat()): "v1"}, {("a.txt", "v1")})
    assert index.resolve({"key": "a.txt", "dr_version_id": "v1"}) == "v1"
    assert index.resolve({"key": "a.txt", "dr_version_id": "gone"}) is None
    unchanged = {"key": "a.txt", "dr_version_id": None, "dr_modified": written.isoformat()}
    assert index.resolve(unchanged) == "v1"
    later = (written + timedelta(seconds=1)).isoformat()
    assert index.resolve({**unchanged, "dr_modified": later}) is None


# The refusal matrix: each bad request is refused by its field, naming the fix, before
# anything is written (the fakes below have no method that writes). One refusal is also
# run end to end, and its record checked, in tests/integration/test_restore_s3_dag.py.
DR_BUCKET = POLICY.assets.s3[0].dr_bucket
FIRST_RUN = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
PURE_REFUSALS = [
    ({"as_of": "2999-01-01T00:00:00+00:00"}, "as_of"),
    ({"target_bucket": DR_BUCKET}, "target_bucket"),
    ({"target_bucket": "scratch-copies"}, "target_bucket"),  # not a restore-... bucket
    ({"prefix": "../etc/"}, "prefix"),
    ({"target_prefix": "/abs/"}, "target_prefix"),
    ({"target_prefix": ".backup/manifests/"}, "target_prefix"),
]


@pytest.mark.parametrize(("conf", "field"), PURE_REFUSALS)
def test_a_bad_request_is_refused_by_field_before_anything_is_looked_up(
    conf: dict[str, object], field: str
) -> None:
    with pytest.raises(RestoreRefused) as refused:
        request(**conf)
    assert refused.value.field == field, conf
    assert "Nothing was changed" in str(refused.value)


class Pages:
    def __init__(self, pages: list[dict[str, Any]]) -> None:
        self.pages = pages

    def paginate(self, **_: Any) -> list[dict[str, Any]]:
        return self.pages


class ReadOnlyS3:
    """A target and DR bucket that only answer reads: a write would raise AttributeError."""

    def __init__(self, head_error: str | None = None, status: int = 404) -> None:
        self.head_error, self.status = head_error, status

    def head_bucket(self, Bucket: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        if self.head_error:
            answer: Any = {
                "Error": {"Code": self.head_error},
                "ResponseMetadata": {"HTTPStatusCode": self.status},
            }
            raise ClientError(answer, "HeadBucket")
        return {}

    def get_bucket_versioning(self, Bucket: str) -> dict[str, Any]:  # noqa: N803
        return {"Status": "Enabled"}

    def get_bucket_location(self, Bucket: str) -> dict[str, Any]:  # noqa: N803
        return {"LocationConstraint": "eu-west-2"}

    def get_paginator(self, name: str) -> Pages:
        assert name == "list_objects_v2"
        key = f".backup/manifests/{SOURCE}/2026-11-20/20261120T013000Z-0a1b2c3d/run.json"
        return Pages([{"Contents": [{"Key": key, "LastModified": FIRST_RUN}]}])


def plan(s3: ReadOnlyS3, **params: object) -> RestorePlan:
    return plan_restore(request(**params), cast("S3Client", s3), cast("S3Client", s3))


@pytest.mark.parametrize(
    ("conf", "s3", "field"),
    [
        ({"as_of": "2020-01-01T00:00:00+00:00"}, ReadOnlyS3(), "as_of"),
        ({"target_bucket": "restore-no-such-bucket"}, ReadOnlyS3("404"), "target_bucket"),
        ({"target_bucket": "restore-not-ours"}, ReadOnlyS3("403", 403), "target_bucket"),
    ],
)
def test_a_request_aws_cannot_meet_is_refused_by_field(
    conf: dict[str, object], s3: ReadOnlyS3, field: str
) -> None:
    with pytest.raises(RestoreRefused) as refused:
        plan(s3, **conf)
    assert refused.value.field == field, conf
    assert "Nothing was changed" in str(refused.value)


def test_a_throttled_look_at_the_target_is_retried_not_refused() -> None:
    with pytest.raises(Transient):
        plan(ReadOnlyS3("SlowDown", 503))


def test_a_plan_names_the_newest_run_finished_by_as_of_and_the_target() -> None:
    found = plan(ReadOnlyS3(), as_of=(FIRST_RUN + timedelta(hours=1)).isoformat())
    assert (
        found["backup_run"] == f".backup/manifests/{SOURCE}/2026-11-20/20261120T013000Z-0a1b2c3d/"
    )
    assert (found["backup_day"], found["target_region"]) == ("2026-11-20", "eu-west-2")
    assert found["target_versioned"] is True and found["dry_run"] is True
