"""The three restore forms, rendered by the real Airflow UI in a real (headless) Chromium.

Each test signs in to the suite's ``airflow standalone``, opens the DAG's Trigger
dialog, checks the fields a user needs with their help text, that *dry run* is on by
default, and keeps a screenshot under ``.local/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from include.dr.local_stack.airflow_standalone import Standalone
from include.dr.project import state_dir

SCREENSHOTS = state_dir() / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chromium on a machine without internet: no background traffic, no sandbox as root.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

FORMS = {
    "restore_git": [
        "Repository",
        "Backup date",
        "Target remote URL",
        "Confirm pushing into the original repository",
        "Overwrite branches whose history differs",
        "Delete branches and tags the backup does not have",
        "No credentials in the URL",
    ],
    "restore_s3": [
        "Backed-up bucket",
        "Prefix",
        "As of",
        "Target bucket",
        "Target prefix",
        "Confirm restoring into a production bucket",
        "A DR bucket is refused",
        "An existing bucket named restore-...",
    ],
    "restore_rds": [
        "Backed-up instance",
        "Restore from",
        "Snapshot id",
        "Restore time",
        "Dump date",
        "New instance name",
        "Target database",
        "AWS uses the default DB subnet group",
        "default security group",
    ],
}


@pytest.fixture(scope="module")
def signed_in(running_airflow: Standalone) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    user, password = running_airflow.login()
    token = running_airflow.token()
    for dag_id in FORMS:  # the DAG processor has parsed them
        running_airflow.wait_for_dag(dag_id, token)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{running_airflow.url}/dags/restore_git")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.keyboard.press("Enter")
        page.wait_for_url("**/dags/restore_git**", timeout=60_000)
        yield page, running_airflow.url
        browser.close()


@pytest.mark.parametrize("dag_id", sorted(FORMS))
def test_the_trigger_form_renders_every_field_with_dry_run_on(
    signed_in: tuple[Any, str], dag_id: str
) -> None:
    page, url = signed_in
    page.goto(f"{url}/dags/{dag_id}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text(f"Trigger Dag - {dag_id}").wait_for(timeout=30_000)
    dialog.get_by_text("Run Parameters").wait_for()
    text = dialog.inner_text()
    for label in [*FORMS[dag_id], "Dry run"]:
        assert label in text, f"{dag_id}: {label!r} is not on the form"
    switches = dialog.locator("input[type=checkbox]")
    assert switches.last.is_checked(), f"{dag_id}: dry run is not on by default"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{dag_id}-form.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
    page.keyboard.press("Escape")
