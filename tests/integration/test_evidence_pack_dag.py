"""compliance_evidence_pack end to end on the local stack: the pack is built from the
store's evidence, signed by the DR signing key deployed from infra/dr.json, stored once
with its announcing record, and verifies against KMS; a form with its end before its
start is refused by field before anything is written."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.dr.evidence import EvidenceRecord, evidence_store
from include.dr.evidence_pack import __main__ as cli
from include.dr.evidence_pack.stored import EVIDENCE_KIND, read_pack
from include.dr.local_stack.settings import LocalSettings
from include.dr.store import store_root

pytestmark = pytest.mark.usefixtures("local_stack")
DAG_ID = "compliance_evidence_pack"


def run(dag_bag: Any, conf: dict[str, Any]) -> Any:
    dag = dag_bag.get_dag(DAG_ID)
    dag.deadline = None
    return dag.test(run_conf=conf)


def test_a_pack_is_built_signed_stored_announced_and_verifies_against_kms(
    dag_bag: Any, settings: LocalSettings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    evidence_store().write(
        EvidenceRecord(
            "window",
            "s3_backup",
            "s3_backup",
            f"manual__pack-{now.timestamp()}",
            "warn",
            {
                "override": True,
                "breached": True,
                "triggered_by": "alice",
                "completion": "finished 2 minutes after the window closed",
            },
        )
    )
    dag_run = run(dag_bag, {"period_start": (now - timedelta(days=6)).date().isoformat()})
    assert dag_run.state == "success"
    record = evidence_store().get(EVIDENCE_KIND, "all", DAG_ID, dag_run.run_id)
    assert record is not None
    pack = record.details["pack"]
    assert pack["signing_key_arn"].startswith("arn:aws:kms:eu-west-1:")
    assert pack["counts"]["exceptions.window override"] >= 1
    data = read_pack(pack["name"])
    assert data is not None and len(data) == pack["size"]
    path = tmp_path / pack["name"]
    path.write_bytes(data)
    dr = settings.connection("aws_dr")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", dr["login"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", dr["password"])
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        code = cli.main(
            ["verify", str(path), "--kms", "--endpoint-url", dr["extra"]["endpoint_url"]]
        )
    assert code == 0, said.getvalue()
    with contextlib.redirect_stdout(said):
        assert cli.main(["where"]) == 0
    assert "verify" in said.getvalue()


def test_a_period_ending_before_it_starts_is_refused_naming_the_field(dag_bag: Any) -> None:
    before = (
        sorted(p.name for p in (store_root() / "evidence-packs").iterdir())
        if (store_root() / "evidence-packs").exists()
        else []
    )
    dag_run = run(dag_bag, {"period_start": "2026-11-20", "period_end": "2026-11-10"})
    assert dag_run.state == "failed"
    assert evidence_store().get(EVIDENCE_KIND, "all", DAG_ID, dag_run.run_id) is None
    after = (
        sorted(p.name for p in (store_root() / "evidence-packs").iterdir())
        if (store_root() / "evidence-packs").exists()
        else []
    )
    assert after == before
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        states = dict(
            session.query(TaskInstance.task_id, TaskInstance.state)
            .filter(TaskInstance.dag_id == DAG_ID, TaskInstance.run_id == dag_run.run_id)
            .all()
        )
    assert states["check_request"] == "failed" and states["build_pack"] == "upstream_failed"
