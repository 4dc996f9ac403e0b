"""No secret of the local stack's connections (the AWS secret key, the MySQL password,
the GitHub token, the bundle key) appears in task logs, evidence, reports, sidecars, the
mirror config or the compliance page, across the backups, a restore test and an evaluation."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from include.dr.compliance.view import page_data, render
from include.dr.evidence import evidence_store
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.store import cache_dir, store_root
from tests.integration.estate import backed_up_estate

pytestmark = pytest.mark.usefixtures("local_stack")


def secrets_of(settings: LocalSettings) -> dict[str, str]:
    key = settings.connection("git_bundle_key")["password"]
    return {
        "aws secret key": settings.connection("aws_default")["password"],
        "mysql password": settings.connection("mysql_default")["password"],
        "github token": settings.connection("github_default")["password"],
        "bundle key": key,
        "bundle key bytes": base64.b64decode(key).hex(),
    }


def test_no_secret_reaches_logs_evidence_reports_or_the_page(
    dag_bag: Any,
    settings: LocalSettings,
    tmp_path_factory: pytest.TempPathFactory,
    capfd: pytest.CaptureFixture[str],
) -> None:
    today = datetime.now(UTC) - timedelta(minutes=1)
    with backed_up_estate(dag_bag, tmp_path_factory, settings, True, today):
        assert dag_bag.get_dag("restore_test").test(run_conf={}).state == "success"
        dag_bag.get_dag("compliance_evaluation").test()
        data = page_data(load_policy(), evidence_store(), datetime.now(UTC))
        page = render(data, "/dags/{dag_id}/runs/{run_id}") + json.dumps(data)
        written = "".join(
            path.read_text(errors="replace")
            for root in (Path(store_root().path), cache_dir())
            for path in Path(root).rglob("*")
            if path.is_file()
            and path.suffix in {".json", ".html", ""}
            and path.stat().st_size < 5_000_000
        )
    output = capfd.readouterr()
    logs = output.out + output.err
    assert "restore_test" in logs and "compliance_evaluation" in logs  # the logs were captured
    for name, secret in secrets_of(settings).items():
        assert secret not in logs, f"the {name} is in a task log"
        assert secret not in written, f"the {name} is in evidence, a report or the store"
        assert secret not in page, f"the {name} is on the compliance page"
