"""Which backup an RDS restore uses: the newest *verified* snapshot over every page, and a
point in time only inside the automated backups' restorable window.

Pure: a small fake client stands in for paginated RDS answers (moto returns one page
and reports no ``RestoreWindow``); the round trip on moto is in tests/integration.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.dr.rds.restore import check_restore_time, earliest_restorable, latest_snapshot
from include.dr.restores import RestoreRefused
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY

DAY = datetime(2026, 11, 1, 2, tzinfo=UTC)


def snapshot(name: str, days: int, status: str = "available") -> dict[str, Any]:
    return {
        "DBSnapshotIdentifier": name,
        "DBSnapshotArn": f"arn:aws:rds:eu-west-1:1:snapshot:{name}",
        "SnapshotCreateTime": DAY + timedelta(days=days),
        "Status": status,
    }


class FakePaginatedRds:
    """Answers ``describe_db_snapshots`` in the pages given, only through a paginator."""

    def __init__(self, pages: list[list[dict[str, Any]]], tags: dict[str, dict[str, str]]):
        self.pages = pages
        self.tags = tags
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.tags_read: list[str] = []

    def get_paginator(self, operation: str) -> FakePaginatedRds:
        self.asked.append((operation, {}))
        return self

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.asked[-1] = (self.asked[-1][0], kwargs)
        for page in self.pages:
            yield {"DBSnapshots": page}

    def describe_db_snapshots(self, **kwargs: Any) -> dict[str, Any]:
        raise AssertionError("a listing must be paginated")

    def list_tags_for_resource(self, ResourceName: str) -> dict[str, Any]:  # noqa: N803
        name = ResourceName.rsplit(":", 1)[1]
        self.tags_read.append(name)
        return {"TagList": [{"Key": k, "Value": v} for k, v in self.tags.get(name, {}).items()]}


VERIFIED = {OWNER_KEY: OWNER_VALUE, VERIFIED_KEY: "true", COMPLETED_KEY: DAY.isoformat()}
UNVERIFIED = {OWNER_KEY: OWNER_VALUE}


def test_the_newest_verified_snapshot_wins_over_a_newer_unverified_one_across_pages() -> None:
    rds = FakePaginatedRds(
        pages=[
            [snapshot("db-2026-11-02", 1), snapshot("db-2026-11-05", 4)],  # newest: unverified
            [snapshot("db-2026-11-04", 3), snapshot("db-2026-11-06", 5, status="creating")],
            [snapshot("db-2026-11-03", 2)],
        ],
        tags={
            "db-2026-11-02": VERIFIED,
            "db-2026-11-03": VERIFIED,
            "db-2026-11-04": VERIFIED,
            "db-2026-11-05": UNVERIFIED,
            "db-2026-11-06": VERIFIED,
        },
    )
    found = latest_snapshot(rds, "db")  # type: ignore[arg-type]
    assert found is not None and found["DBSnapshotIdentifier"] == "db-2026-11-04"
    assert rds.asked == [
        ("describe_db_snapshots", {"DBInstanceIdentifier": "db", "SnapshotType": "manual"})
    ]
    assert rds.tags_read == ["db-2026-11-05", "db-2026-11-04"]  # newest first, then stop


def test_a_snapshot_not_ours_or_none_verified_gives_no_latest() -> None:
    foreign = {VERIFIED_KEY: "true"}
    rds = FakePaginatedRds(
        pages=[[snapshot("a", 1)], [snapshot("b", 2)]], tags={"a": UNVERIFIED, "b": foreign}
    )
    assert latest_snapshot(rds, "db") is None  # type: ignore[arg-type]


CREATED = datetime(2026, 1, 1, tzinfo=UTC)
EARLIEST = datetime(2026, 11, 20, 3, 5, tzinfo=UTC)
LATEST = datetime(2026, 11, 27, 9, 55, tzinfo=UTC)


def test_the_earliest_time_is_the_restore_window_not_the_instance_creation() -> None:
    backups = [{"RestoreWindow": {"EarliestTime": EARLIEST, "LatestTime": LATEST}}]
    assert earliest_restorable(backups, [CREATED]) == EARLIEST  # CREATED: an older snapshot


def test_without_a_restore_window_the_oldest_automated_snapshot_bounds_it() -> None:
    assert earliest_restorable([{}], [EARLIEST + timedelta(days=1), EARLIEST]) == EARLIEST
    assert earliest_restorable([], []) is None


@pytest.mark.parametrize(
    "at",
    [CREATED + timedelta(days=30), EARLIEST - timedelta(minutes=1), LATEST + timedelta(seconds=1)],
)
def test_a_time_outside_the_window_is_refused_by_field_naming_the_window(at: datetime) -> None:
    with pytest.raises(RestoreRefused) as refused:
        check_restore_time(at, EARLIEST, LATEST, "db", "eu-west-2")
    assert refused.value.field == "restore_time"
    assert f"{EARLIEST.isoformat()} to {LATEST.isoformat()}" in str(refused.value)
    assert "db in eu-west-2" in str(refused.value)


@pytest.mark.parametrize("at", [EARLIEST, EARLIEST + timedelta(days=3), LATEST])
def test_a_time_inside_the_window_is_accepted(at: datetime) -> None:
    check_restore_time(at, EARLIEST, LATEST, "db", "eu-west-2")


def test_no_automated_backups_is_refused_by_field() -> None:
    with pytest.raises(RestoreRefused, match="keeps no automated backups") as refused:
        check_restore_time(EARLIEST, None, LATEST, "db", "eu-west-1")
    assert refused.value.field == "restore_time"
