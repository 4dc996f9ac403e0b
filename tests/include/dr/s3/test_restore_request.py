"""The S3 restore's pure parts: the request check (an empty *as of* means the latest
backup), each run's own manifest folder, and which DR versions a manifest entry names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from include.dr.policy.loader import load_policy
from include.dr.restores import RestoreRefused
from include.dr.s3.backup import manifest_prefix, plan_buckets, run_key, summary_key
from include.dr.s3.restore import VersionIndex, validate_request

NOW = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
POLICY = load_policy()
SOURCE = POLICY.assets.s3[0].source


def request(**params: object) -> dict[str, object]:
    return validate_request(
        {"source_bucket": SOURCE, "target_bucket": "scratch-restores", **params}, POLICY, NOW
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
