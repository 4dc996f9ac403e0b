"""The compliance page's rendering and its report route's guard against other files."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.compliance.view import page_data, read_report, render
from include.dr.evidence import EvidenceStore
from include.dr.policy.loader import DEFAULT_POLICY_FILE, load_policy


def test_only_restore_test_report_names_are_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{tmp_path}")
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
    # the page's own theme script is there; the verdict's is escaped
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert 'href="/dags/rds_backup/runs/manual__1"' in page
    assert "FAIL" in page and "no restore test has run yet" in page


def residency_page(tmp_path: Path, dr: str = "eu-west-1") -> tuple[dict[str, Any], str]:
    document = copy.deepcopy(yaml.safe_load(DEFAULT_POLICY_FILE.read_text()))
    document["regions"]["dr"] = dr
    document["kms_keys"][dr] = "alias/swl-backup-dr"
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document))
    now = datetime(2026, 11, 28, tzinfo=UTC)
    data = page_data(load_policy(path), EvidenceStore(tmp_path / "evidence"), now)
    return data, render(data, "/dags/{dag_id}/runs/{run_id}")


def test_the_page_shows_who_approved_the_residency_exception_when_and_for_which_pair(
    tmp_path: Path,
) -> None:
    data, page = residency_page(tmp_path)
    approval = data["residency_verdict"]["approval"]
    assert data["residency_verdict"]["holds"] is True
    assert (approval["approved_by"], approval["approved_on"]) == ("Compliance Team", "2026-11-27")
    assert (approval["production_region"], approval["dr_region"]) == ("eu-west-2", "eu-west-1")
    assert '<table id="residency-approval">' in page
    assert "<td>eu-west-2 -&gt; eu-west-1</td><td>Compliance Team</td><td>2026-11-27</td>" in page
    assert "<td>yes</td>" in page


def test_the_page_shows_an_exception_that_no_longer_covers_the_regions(tmp_path: Path) -> None:
    data, page = residency_page(tmp_path, dr="eu-west-3")
    assert data["residency_verdict"]["holds"] is False
    assert data["residency_verdict"]["approval"]["covers_configured_pair"] is False
    assert '<p id="residency"><span class="status fail">FAIL</span>' in page
    assert "<strong>no</strong>" in page and "eu-west-2 -&gt; eu-west-3" in page


def test_an_empty_repository_shows_it_has_no_bundle(tmp_path: Path) -> None:
    from include.dr.evidence import EvidenceRecord

    store = EvidenceStore(tmp_path)
    github = load_policy().assets.github
    assert github is not None
    repository = (github.repositories or ("empty",))[0]
    store.write(
        EvidenceRecord(
            "git_backup",
            f"git/{github.organisation}/{repository}",
            "git_backup",
            "scheduled__1",
            "pass",
            {"verdict": "empty", "refs": {}},
        )
    )
    data = page_data(load_policy(), store, datetime.now(UTC))
    [shown] = [a for a in data["assets"] if a["asset"].endswith(f"/{repository}")]
    assert shown["encryption"] == "no bundle (empty repository)"
