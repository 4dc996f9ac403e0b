"""The Backup compliance page inside the Airflow UI, in headless Chromium, and its guard:
nothing of it is readable without an authenticated Airflow user."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from include.dr.local_stack.airflow_standalone import Standalone
from tests.ui.test_restore_forms import ARGS, CHROMIUM, SCREENSHOTS

CLAUSES = 14


@pytest.fixture(scope="module")
def evaluated(running_airflow: Standalone) -> Standalone:
    """One evaluation in the running Airflow, whatever its verdict, so the page has data."""
    running_airflow.run_dag("compliance_evaluation")
    return running_airflow


def get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, b""


@pytest.mark.parametrize("path", ["/backup-compliance/", "/backup-compliance/api/status"])
def test_the_page_and_its_json_refuse_a_request_without_a_user(
    evaluated: Standalone, path: str
) -> None:
    status, body = get(evaluated.url + path)
    assert status in {401, 403} and b"clause" not in body
    forged, _ = get(evaluated.url + path, token="not.a.jwt")
    assert forged in {401, 403}


def test_the_json_endpoint_serves_every_clause_to_a_user(evaluated: Standalone) -> None:
    status, body = get(evaluated.url + "/backup-compliance/api/status", evaluated.token())
    data = json.loads(body)
    assert status == 200 and len(data["clauses"]) == CLAUSES
    assert {c["status"] for c in data["clauses"]} <= {"pass", "warn", "fail"}
    assert data["residency"].startswith("Backups are copied from eu-west-2")


def test_the_page_opens_from_the_navigation_with_the_clause_table(evaluated: Standalone) -> None:
    from playwright.sync_api import sync_playwright

    user, password = evaluated.login()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page: Any = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{evaluated.url}/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.keyboard.press("Enter")
        page.get_by_role("link", name="Backup compliance").first.click()
        frame = page.frame_locator("iframe").first
        rows = frame.locator("#clauses tr")
        rows.nth(CLAUSES).wait_for(timeout=60_000)
        assert rows.count() == CLAUSES + 1  # and the header
        statuses = set(frame.locator("#clauses .status").all_inner_texts())
        assert statuses and statuses <= {"PASS", "WARN", "FAIL"}
        assert "Residency" in frame.locator("body").inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "compliance-page.png"), full_page=True)
        browser.close()
