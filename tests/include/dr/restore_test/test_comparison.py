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
    before = {"innodb_rows_inserted": inserted, "innodb_rows_deleted": deleted}
    after = {
        "innodb_rows_inserted": inserted + more_inserted,
        "innodb_rows_deleted": deleted + more_deleted,
        "innodb_rows_updated": updated,  # changes no count
    }
    compared = native_comparison({"counters": before}, {"counters": after})
    assert compared.row_slack == more_inserted + more_deleted
    # Checksums are compared exactly when, and only when, nothing was written.
    assert compared.checksums is (more_inserted + more_deleted == 0)


def test_unmeasured_or_reset_counters_never_claim_an_exact_comparison() -> None:
    for after in ({}, {"innodb_rows_inserted": 0, "innodb_rows_deleted": 0}):
        compared = native_comparison(
            {"counters": {"innodb_rows_inserted": 5, "innodb_rows_deleted": 5}},
            {"counters": after} if after else None,
        )
        assert (compared.row_slack, compared.checksums) == (0, False)
        assert "not measured" in compared.compared
