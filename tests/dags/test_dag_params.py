"""Every DAG's trigger form refuses malformed, hostile and boundary values before a run
exists (#10's bad-input table); the first task re-checks what the schema cannot."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import ParamValidationError

HOSTILE = [
    ("rds_backup", {"override_window": "yes; rm -rf /"}),
    ("s3_backup", {"override_window": 1}),
    ("git_backup", {"override_window": None}),
    ("restore_test", {"assets": ["rds", "../../etc"]}),
    ("restore_test", {"assets": "rds"}),
    ("restore_test", {"keep_scratch": "false"}),
    ("restore_git", {"repository": "webapp; rm -rf /", "target_url": "https://x/y.git"}),
    ("restore_git", {"backup_date": "2026-11-27' OR 1=1", "target_url": "https://x/y.git"}),
    ("restore_git", {"target_url": "x" * 501}),
    ("restore_git", {"dry_run": "no", "target_url": "https://x/y.git"}),
    ("restore_s3", {"source_bucket": "../../etc"}),
    ("restore_s3", {"as_of": "yesterday"}),
    ("restore_s3", {"target_bucket": "b" * 64}),
    ("restore_s3", {"prefix": "p" * 513}),
    ("restore_rds", {"instance": "swl-customers-prod; DROP"}),
    ("restore_rds", {"source": "everything"}),
    ("restore_rds", {"security_group_ids": "sg-1"}),
    ("restore_rds", {"target_instance": "x" * 64}),
    ("compliance_evidence_pack", {"clauses": ["freshness", "../../etc"]}),
    ("compliance_evidence_pack", {"clauses": []}),
    ("compliance_evidence_pack", {"period_start": "yesterday"}),
]


@pytest.mark.parametrize(
    ("dag_id", "conf"), HOSTILE, ids=[f"{d}-{i}" for i, (d, _) in enumerate(HOSTILE)]
)
def test_the_form_refuses_a_hostile_value_before_a_run_exists(
    dag_bag: Any, dag_id: str, conf: dict[str, Any]
) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    dag = dag_bag.get_dag(dag_id)
    dag.deadline = None
    with create_session() as session:
        before = session.query(DagRun).filter(DagRun.dag_id == dag_id).count()
    with pytest.raises(ParamValidationError, match=next(iter(conf))):
        dag.test(run_conf=conf)
    with create_session() as session:
        assert session.query(DagRun).filter(DagRun.dag_id == dag_id).count() == before
