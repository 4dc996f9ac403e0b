"""The summary of a period: every exception with its reason, each clause's verdict over
the period, the restore tests, the SLA register and the residency exception."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from include.dr.evidence_pack.collect import Period, records_in, reports_for
from include.dr.evidence_pack.controls import CLAUSE_IDS
from include.dr.evidence_pack.summary import PackSummary, summarise
from include.dr.policy.loader import load_policy
from include.dr.store import store_root
from tests.include.dr.evidence_pack.conftest import seed_period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), "Europe/London")


def november(store_dir: Path) -> PackSummary:
    seed_period(store_dir)
    records, unreadable = records_in(store_root(), NOVEMBER)
    return summarise(
        records,
        NOVEMBER,
        list(CLAUSE_IDS),
        load_policy(),
        datetime(2026, 12, 1, tzinfo=UTC),
        unreadable,
    )


def test_every_exception_of_the_period_is_named_with_its_reason(store_dir: Path) -> None:
    summary = november(store_dir)
    found = {(e["kind"], e["dag_id"]): e["reason"] for e in summary["exceptions"]}
    assert "by alice" in found[("window override", "s3_backup")]
    assert "72 minutes after the window closed" in found[("window breach", "rds_backup")]
    assert "rds/swl-customers-prod row_counts" in found[("failed restore test", "restore_test")]
    assert "missing blob 4b825dc" in found[("failed run", "git_backup")]
    assert (
        "rds_backup: 6 of 7 inside, 1 outside" in found[("failed clause", "compliance_evaluation")]
    )
    # The override counted once (the run's newest account), the one in December not at all.
    assert [e["kind"] for e in summary["exceptions"]].count("window override") == 1


def test_a_clause_is_judged_by_its_worst_verdict_in_the_period(store_dir: Path) -> None:
    clauses = {c["clause"]: c for c in november(store_dir)["clauses"]}
    assert clauses["window"]["status"] == "fail"
    assert clauses["window"]["counts"] == {"fail": 1, "pass": 1}
    assert clauses["freshness"]["status"] == "pass"
    assert clauses["tamper"]["status"] == "not evaluated"
    assert "A.8.13 Information backup" in clauses["freshness"]["iso27001"]
    assert "A1.3" in clauses["restore_test"]["soc2"]


def test_the_restore_tests_their_reports_the_register_and_residency(store_dir: Path) -> None:
    summary = november(store_dir)
    [test] = summary["restore_tests"]
    assert test["outcome"] == "fail"
    assert test["reports"] == [
        "reports/restore-test/2026-11-15-0123456789.html",
        "reports/restore-test/2026-11-15-0123456789.json",
    ]
    records, _ = records_in(store_root(), NOVEMBER)
    assert all(body for body in reports_for(store_root(), records).values())
    assert {s["name"] for s in summary["sla_register"]} == {
        s.name for s in load_policy().cloud_services
    }
    exception = summary["residency"]["exception"]
    assert exception["approved_by"] == "Compliance Team"
    assert (exception["production_region"], exception["dr_region"]) == ("eu-west-2", "eu-west-1")


def test_only_the_periods_records_and_every_try_of_them(store_dir: Path) -> None:
    summary = november(store_dir)
    assert summary["records"] == 8  # December's left out; both accounts of the override run
    assert summary["kinds"]["window"] == 4
