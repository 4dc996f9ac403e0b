"""Each clause's judgment at its boundaries, without a clock or a server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from include.dr.compliance import clauses
from include.dr.compliance.clauses import EvidenceRef

REF = EvidenceRef("rds_backup", "rds/db", "rds_backup", "run", "2026-11-27T01:00:00+00:00")
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hours", "status"),
    [(0, "pass"), (23.99, "pass"), (24, "warn"), (25.99, "warn"), (26, "fail"), (100, "fail")],
)
def test_freshness_warns_at_24_hours_and_fails_at_26(hours: float, status: str) -> None:
    verdict = clauses.freshness({"rds/db": (NOW - timedelta(hours=hours), REF)}, NOW)
    assert verdict.status == status


def test_freshness_fails_an_asset_never_backed_up_and_takes_the_worst() -> None:
    verdict = clauses.freshness({"rds/db": (NOW, REF), "s3/b": None}, NOW)
    assert verdict.status == "fail" and "s3/b: no good backup" in verdict.text


def test_freshness_counts_real_hours_across_a_clock_change() -> None:
    """25 wall-clock hours after 01:00 London on the October change is 26 real hours."""
    london = ZoneInfo("Europe/London")
    backed_up = datetime(2026, 10, 24, 1, 0, tzinfo=london)
    now = datetime(2026, 10, 25, 2, 0, tzinfo=london)
    assert clauses.freshness({"a": (backed_up, REF)}, now).status == "fail"


@given(st.integers(0, 400))
def test_restore_test_is_due_every_interval_and_warns_30_days_before(days_ago: int) -> None:
    verdict = clauses.restore_test((NOW - timedelta(days=days_ago), REF), NOW, 365)
    expected = "fail" if days_ago >= 365 else "warn" if days_ago >= 335 else "pass"
    assert verdict.status == expected


def test_no_restore_test_yet_fails() -> None:
    assert clauses.restore_test(None, NOW, 365).status == "fail"


@pytest.mark.parametrize(
    ("reviewed", "status"),
    [(date(2026, 1, 1), "pass"), (date(2025, 12, 1), "warn"), (date(2025, 11, 27), "fail")],
)
def test_sla_reviews_lapse_after_a_year(reviewed: date, status: str) -> None:
    assert clauses.sla_register([("Drive", reviewed)], NOW.date()).status == status


def test_window_excuses_recorded_overrides_but_not_breaches() -> None:
    runs = {"rds_backup": [(False, False, REF)] * 6 + [(True, True, REF)]}
    assert clauses.window(runs).status == "pass"
    runs["s3_backup"] = [(True, False, REF)]
    verdict = clauses.window(runs)
    assert verdict.status == "fail" and "s3_backup: 0 of 1 inside, 1 outside" in verdict.text
    old_breach = {"git_backup": [(True, False, REF)] + [(False, False, REF)] * 7}
    assert clauses.window(old_breach).status == "pass"  # only the last 7 runs count


def test_coverage_counts_days_since_the_first_backup_within_the_minimum() -> None:
    today = date(2026, 11, 27)
    week = {today - timedelta(days=n) for n in range(1, 8)}
    assert clauses.coverage({"a": week}, today, 7).status == "pass"
    assert clauses.coverage({"a": {today - timedelta(days=1)}}, today, 7).status == "pass"
    gap = week - {today - timedelta(days=3)}
    verdict = clauses.coverage({"a": gap}, today, 7)
    assert verdict.status == "fail" and "2026-11-24" in verdict.text


def test_a_deletion_younger_than_the_minimum_fails() -> None:
    done = datetime(2026, 11, 1, tzinfo=UTC)
    ok = [("snap-a", done, done + timedelta(days=7), REF)]
    early = [("snap-b", done, done + timedelta(days=6, hours=23), REF)]
    assert clauses.early_deletions(ok, 7).status == "pass"
    verdict = clauses.early_deletions(ok + early, 7)
    assert verdict.status == "fail" and "snap-b" in verdict.text


def test_tamper_fails_only_for_a_backup_gone_without_retention() -> None:
    recorded = [("snap-a", REF), ("snap-b", REF), ("snap-c", REF)]
    verdict = clauses.tamper(recorded, present={"snap-a"}, deleted_by_retention={"snap-b"})
    assert verdict.status == "fail" and verdict.text == "vanished: snap-c"
    assert clauses.tamper(recorded[:2], {"snap-a"}, {"snap-b"}).status == "pass"


def test_objects_archived_at_the_source_warn_naming_the_bucket_never_pass_or_fail() -> None:
    where = EvidenceRef("s3_backup", "s3/swl-uploads", "s3_backup", "run", "2026-11-29")
    quiet = clauses.archived_at_source({"s3/swl-uploads": (0, where)})
    assert quiet.status == "pass"
    found = clauses.archived_at_source({"s3/swl-uploads": (3, where), "s3/other": (0, where)})
    assert found.status == "warn" and found.evidence == (where,)
    assert found.text.startswith("s3/swl-uploads: 3 object(s)") and "s3/other" not in found.text
