"""The preflight DAG, run for real with dag.test() against the local stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.evidence import evidence_store
from include.dr.policy.loader import DEFAULT_POLICY_FILE
from tests.conftest import deferred_tasks

pytestmark = pytest.mark.usefixtures("local_stack")


def test_preflight_passes_on_the_seeded_stack_and_records_evidence(dag_bag: Any) -> None:
    run = dag_bag.get_dag("policy_preflight").test()
    assert run.state == "success"
    record = next(r for r in evidence_store().read("preflight", "policy") if r.run_id == run.run_id)
    assert record.outcome == "pass"
    checks = record.details["checks"]
    assert all(check["status"] in ("pass", "n/a") for check in checks)
    # Only what the local stack cannot show goes unchecked, and it never reads as a pass.
    unchecked = [check for check in checks if not check["passed"]]
    assert {check["name"] for check in unchecked} <= {"dr_bucket_tls_only"}
    assert all(check["status"] == "n/a" for check in unchecked)
    assert record.details["residency"]["same_country"] is False


def test_preflight_fails_naming_a_missing_bucket_after_recording_it(
    dag_bag: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    policy["assets"]["s3"][0]["source"] = "swl-bucket-that-was-never-made"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    monkeypatch.setenv("BACKUP_POLICY_FILE", str(path))

    run = dag_bag.get_dag("policy_preflight").test()
    assert run.state == "failed"
    record = next(r for r in evidence_store().read("preflight", "policy") if r.run_id == run.run_id)
    assert record.outcome == "fail"
    assert "swl-bucket-that-was-never-made" in record.details["summary"]


def test_deferrable_provider_operator_resumes_from_its_trigger(dag_bag: Any) -> None:
    run = dag_bag.get_dag("deferral_probe").test()
    assert run.state == "success"
    # Each task handed its wait to the provider's trigger, which ran and resumed it.
    deferred = deferred_tasks("deferral_probe", run.run_id)
    assert deferred == {
        "create_instance": "airflow.providers.amazon.aws.triggers.rds.RdsDbAvailableTrigger",
        "delete_instance": "airflow.providers.amazon.aws.triggers.rds.RdsDbDeletedTrigger",
    }
