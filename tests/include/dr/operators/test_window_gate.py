"""The window gate refuses a run dated in the future, even with the override."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException

from include.dr.evidence import EvidenceStore
from include.dr.operators.window import BackupWindowGateOperator


def test_a_run_dated_thirty_days_ahead_fails_at_the_gate_with_the_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path}")
    ahead = datetime.now(UTC) + timedelta(days=30)
    context = {
        "logical_date": ahead,
        "dag": SimpleNamespace(dag_id="s3_backup"),
        "run_id": "manual__ahead",
        "dag_run": SimpleNamespace(run_after=ahead, triggering_user_name="mallory"),
    }
    gate = BackupWindowGateOperator(task_id="window_gate", override_window=True)
    with pytest.raises(AirflowFailException, match="in the future"):
        gate.execute(context)
    record = EvidenceStore(tmp_path / "evidence").get(
        "window", "s3_backup", "s3_backup", "manual__ahead"
    )
    assert record is not None and record.outcome == "fail"
    assert record.details["override"] is True and "in the future" in record.details["reason"]
    assert record.details["triggered_by"] == "mallory"
