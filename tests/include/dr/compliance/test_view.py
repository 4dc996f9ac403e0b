"""The compliance page's rendering and its report route's guard against other files."""

from __future__ import annotations

from pathlib import Path

import pytest

from include.dr.compliance.view import read_report, render


def test_only_restore_test_report_names_are_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_STORE_DIR", str(tmp_path))
    folder = tmp_path / "reports" / "restore-test"
    folder.mkdir(parents=True)
    (folder / "2026-11-27-0123456789.html").write_text("<h1>Restore test: PASS</h1>")
    (tmp_path / "secret.html").write_text("no")
    assert read_report("2026-11-27-0123456789.html") == "<h1>Restore test: PASS</h1>"
    for name in (
        "../../secret.html",
        "2026-11-27-0123456789.json",
        "x.html",
        "2026-11-28-0123456789.html",
    ):
        assert read_report(name) is None


def test_verdict_text_is_escaped_and_runs_are_linked() -> None:
    clause = {
        "clause": "tamper",
        "title": "No backup vanished",
        "status": "fail",
        "text": "vanished: <script>alert(1)</script>",
        "evidence": [
            {"dag_id": "rds_backup", "run_id": "manual__1", "recorded_at": "2026-11-27T01:00:00"}
        ],
    }
    data = {
        "status": "fail",
        "evaluated_at": "2026-11-27T06:00:00",
        "evaluation_run": None,
        "clauses": [clause],
        "assets": [],
        "restore_test": None,
        "sla_register": [],
        "residency": "Backups are copied from eu-west-2 (GB) to eu-west-1 (IE).",
        "out_of_scope": "Workstations are out of scope.",
    }
    page = render(data, "/dags/{dag_id}/runs/{run_id}")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'href="/dags/rds_backup/runs/manual__1"' in page
    assert "FAIL" in page and "no restore test has run yet" in page
