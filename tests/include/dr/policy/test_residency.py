"""A residency exception covers the region pair it was approved for, and only that pair:
moving either region still loads, but the preflight and the compliance clause fail naming
the pair approved, the pair configured and what to do (#14)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.compliance import clauses
from include.dr.policy.loader import DEFAULT_POLICY_FILE, PolicyError, load_policy
from include.dr.policy.model import BackupPolicy
from include.dr.preflight import record_preflight, residency_check

SHIPPED: dict[str, Any] = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
APPROVED = "eu-west-2 -> eu-west-1"


def policy_with(tmp_path: Path, production: str, dr: str) -> BackupPolicy:
    document = copy.deepcopy(SHIPPED)
    document["regions"].update(production=production, dr=dr)
    document["kms_keys"] = {production: "alias/prod", dr: "alias/dr"}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document))
    return load_policy(path)


MOVES = [("eu-west-2", "eu-west-3"), ("eu-central-1", "eu-west-1"), ("eu-west-1", "eu-west-2")]


def test_the_shipped_exception_names_its_pair_and_holds() -> None:
    exception = load_policy().regions.residency_exception
    assert exception is not None
    assert (exception.production_region, exception.dr_region) == ("eu-west-2", "eu-west-1")
    verdict = load_policy().regions.residency
    assert verdict.holds and verdict.approved_for_this_pair


@pytest.mark.parametrize(("production", "dr"), MOVES)
def test_moving_a_region_loads_but_the_verdict_fails_naming_both_pairs(
    tmp_path: Path, production: str, dr: str
) -> None:
    verdict = policy_with(tmp_path, production, dr).regions.residency
    assert not verdict.holds
    assert APPROVED in verdict.statement and f"{production} -> {dr}" in verdict.statement
    assert "approved by Compliance Team on 2026-11-27" in verdict.statement
    assert "regions.residency_exception" in verdict.fix


@pytest.mark.parametrize(("production", "dr"), MOVES)
def test_the_preflight_fails_on_a_moved_region_after_recording_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, production: str, dr: str
) -> None:
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path / 'evidence'}")
    verdict = policy_with(tmp_path, production, dr).regions.residency
    check = residency_check(verdict.as_dict())
    assert not check.passed and check.resource == f"{production} -> {dr}"
    assert APPROVED in check.found and "approve" in check.fix
    outcome, summary = record_preflight(verdict.as_dict(), [], "policy_preflight", "manual__1")
    assert outcome == "fail"
    assert APPROVED in summary and f"{production} -> {dr}" in summary


def test_the_preflight_records_a_holding_residency_as_a_passed_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path / 'evidence'}")
    residency = load_policy().regions.residency.as_dict()
    assert residency_check(residency).passed
    assert record_preflight(residency, [], "policy_preflight", "manual__1")[0] == "pass"


@pytest.mark.parametrize(("production", "dr"), MOVES)
def test_the_compliance_region_clause_fails_on_a_moved_region(
    tmp_path: Path, production: str, dr: str
) -> None:
    verdict = policy_with(tmp_path, production, dr).regions.residency
    held = [("s3://swl-customer-uploads-dr dr_bucket", True, f"in {dr}")]
    judged = clauses.region(held, verdict)
    assert judged.status == "fail"
    assert APPROVED in judged.text and f"{production} -> {dr}" in judged.text


def test_the_compliance_region_clause_passes_under_the_approved_pair() -> None:
    held = [("s3://swl-customer-uploads-dr dr_bucket", True, "in eu-west-1")]
    judged = clauses.region(held, load_policy().regions.residency)
    assert judged.status == "pass" and "approved by Compliance Team on 2026-11-27" in judged.text


def test_nothing_recorded_still_fails_the_region_clause() -> None:
    assert clauses.region([], load_policy().regions.residency).status == "fail"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("production_region"), "regions.residency_exception.production_region"),
        (lambda e: e.pop("dr_region"), "regions.residency_exception.dr_region"),
        (lambda e: e.pop("approved_on"), "regions.residency_exception.approved_on"),
        (lambda e: e.update(dr_region="atlantis-1"), "regions.residency_exception.dr_region"),
        (lambda e: e.update(approved_by=True), "regions.residency_exception.approved_by"),
        (lambda e: e.update(approved_on="last tuesday"), "regions.residency_exception.approved_on"),
    ],
    ids=["no production region", "no DR region", "no date", "unknown region", "flag", "date"],
)
def test_an_exception_must_name_its_pair_approver_and_date(
    tmp_path: Path, change: Any, field: str
) -> None:
    document = copy.deepcopy(SHIPPED)
    change(document["regions"]["residency_exception"])
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert field in str(refused.value)
