"""A backup run dated in the future is refused before it exists, so it never blocks the
daily runs (Airflow starts no task of such a run, and with ``max_active_runs=1`` it would
hold back every scheduled backup until its date)."""

from __future__ import annotations

import json
import urllib.error
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.local_stack.airflow_standalone import Standalone
from include.dr.timetables import FutureRunRefused

pytestmark = pytest.mark.usefixtures("local_stack")


def test_dag_test_of_a_backup_dated_thirty_days_ahead_is_refused_with_nothing_done(
    dag_bag: Any,
) -> None:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    ahead = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    dag = dag_bag.get_dag("rds_backup")
    dag.deadline = None
    before = {r.run_id for r in evidence_store().read("window")}
    with pytest.raises(FutureRunRefused, match="in the future"):
        dag.test(logical_date=ahead, run_conf={"override_window": True})
    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == "rds_backup").all()
    assert all(run.logical_date is None or run.logical_date < ahead for run in runs)
    assert {r.run_id for r in evidence_store().read("window")} == before


def test_the_api_refuses_a_run_dated_ahead_and_the_dag_still_runs(
    running_airflow: Standalone,
) -> None:
    dag_id = "policy_preflight"
    token = running_airflow.token()
    running_airflow.wait_for_dag(dag_id, token)
    running_airflow.call("PATCH", f"/api/v2/dags/{dag_id}", token, {"is_paused": False})
    ahead = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    with pytest.raises(urllib.error.HTTPError) as refused:
        running_airflow.call(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            token,
            {"logical_date": ahead, "conf": {"override_window": True}},
        )
    detail = json.loads(refused.value.read())["detail"]
    assert refused.value.code == 400, detail
    assert "is in the future" in detail
    listed = running_airflow.call(
        "GET", f"/api/v2/dags/{dag_id}/dagRuns?logical_date_gte={ahead[:10]}T00:00:00Z", token
    )
    assert listed["dag_runs"] == []
    # Nothing was queued, so the next run is not held back behind it.
    assert running_airflow.run_dag(dag_id, timeout=600) in {"success", "failed"}
