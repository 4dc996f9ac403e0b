"""What a restored database is compared with: exact where one moment is shared, bounded by
the writes between two moments otherwise, and said in words for the report."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from include.dr.restore_test.comparison import logical_comparison, native_comparison

MOMENT = {"taken_at": "2026-11-29T01:00:00+00:00", "binlog": {"file": "bin.000003", "position": 9}}


def test_a_dump_is_compared_exactly_at_its_own_moment() -> None:
    compared = logical_comparison({"taken_at": MOMENT["taken_at"], "moment": MOMENT, "tables": {}})
    assert (compared.row_slack, compared.checksums) == (0, True)
    assert "both at the dump's moment (2026-11-29T01:00:00+00:00 at binlog bin.000003:9)" in (
        compared.compared
    )


def test_an_older_backup_says_its_manifest_was_taken_before_the_dump() -> None:
    compared = logical_comparison({"taken_at": MOMENT["taken_at"], "tables": {}})
    assert "before the dump's own snapshot" in compared.compared


@given(
    inserted=st.integers(0, 10**9),
    deleted=st.integers(0, 10**9),
    more_inserted=st.integers(0, 10**6),
    more_deleted=st.integers(0, 10**6),
    updated=st.integers(0, 10**6),
)
def test_the_slack_is_the_rows_inserted_or_deleted_between_the_two_moments(
    inserted: int, deleted: int, more_inserted: int, more_deleted: int, updated: int
) -> None:
    before = {"handler_write": inserted, "handler_delete": deleted}
    after = {
        "handler_write": inserted + more_inserted,
        "handler_delete": deleted + more_deleted,
        "handler_update": updated,  # changes no count
    }
    compared = native_comparison({"counters": before}, {"counters": after})
    assert compared.row_slack == more_inserted + more_deleted
    # Checksums are compared exactly when, and only when, nothing was written.
    assert compared.checksums is (more_inserted + more_deleted == 0)


def test_unmeasured_or_reset_counters_never_claim_an_exact_comparison() -> None:
    for after in ({}, {"handler_write": 0, "handler_delete": 0}):
        compared = native_comparison(
            {"counters": {"handler_write": 5, "handler_delete": 5}},
            {"counters": after} if after else None,
        )
        assert (compared.row_slack, compared.checksums) == (0, False)
        assert "not measured" in compared.compared


def test_manifests_read_from_a_replica_bound_nothing_about_the_primary_s_snapshot() -> None:
    counters = {"handler_write": 1, "handler_delete": 1}
    compared = native_comparison(
        {"counters": counters, "read_from": "mysql_replica"},
        {"counters": counters, "read_from": "mysql_replica"},
    )
    assert (compared.row_slack, compared.checksums) == (0, False)
    assert "read from the replica mysql_replica" in compared.compared


def test_a_snapshot_manifest_that_counted_rows_only_never_compares_checksums() -> None:
    counters = {"handler_write": 4, "handler_delete": 0}
    compared = native_comparison(
        {"counters": counters, "checksums": False}, {"counters": {**counters, "handler_write": 6}}
    )
    assert (compared.row_slack, compared.checksums) == (2, False)
    assert "counted rows only" in compared.compared
