"""The Backup compliance page inside the Airflow UI, in headless Chromium, in both of the
UI's themes, and its guard: nothing of it is readable without an authenticated user.

The page is judged over a realistic 90-day history (``tests/include/dr/compliance/
history.py``) written straight into the store the suite's ``airflow standalone`` reads,
after one real evaluation, and taken away again afterwards, so the other tests sharing
that Airflow see only their own evidence."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from include.dr.local_stack.airflow_standalone import Standalone
from tests.include.dr.compliance.history import PACK, seed
from tests.ui.test_restore_forms import ARGS, CHROMIUM, SCREENSHOTS

CLAUSES = 14
LAPTOP = {"width": 1366, "height": 768}
PACK_BYTES = b"PK\x05\x06" + b"\x00" * 18  # an empty zip: what the route serves is our test


@pytest.fixture(scope="module")
def evaluated(running_airflow: Standalone) -> Standalone:
    """One evaluation in the running Airflow, whatever its verdict, so the page has data."""
    running_airflow.run_dag("compliance_evaluation")
    return running_airflow


@pytest.fixture(scope="module")
def with_history(evaluated: Standalone) -> Iterator[Standalone]:
    """90 days of evidence and one stored pack beside the real evaluation; removed after."""
    from include.dr.evidence import EvidenceStore
    from include.dr.policy.loader import load_policy

    assert evaluated.store_dir is not None
    policy = load_policy()
    today = datetime.now(UTC).astimezone(policy.schedule.window.zone).date()
    written = seed(EvidenceStore(evaluated.store_dir / "evidence"), policy, today)
    pack = Path(evaluated.store_dir) / "evidence-packs" / PACK
    pack.parent.mkdir(parents=True, exist_ok=True)
    pack.write_bytes(PACK_BYTES)
    yield evaluated
    pack.unlink(missing_ok=True)
    for path in written:
        path.unlink()


def get(url: str, token: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}"} if token else {}
    )
    try:
        with urllib.request.urlopen(request) as answer:  # noqa: S310 - loopback
            return answer.status, answer.read(), dict(answer.headers)
    except urllib.error.HTTPError as refused:
        return refused.code, b"", {}


@pytest.mark.parametrize(
    "path",
    ["/backup-compliance/", "/backup-compliance/api/status", f"/backup-compliance/packs/{PACK}"],
)
def test_the_page_its_json_and_packs_refuse_a_request_without_a_user(
    evaluated: Standalone, path: str
) -> None:
    status, body, _ = get(evaluated.url + path)
    assert status in {401, 403} and b"clause" not in body and not body.startswith(b"PK")
    forged, _, _ = get(evaluated.url + path, token="not.a.jwt")
    assert forged in {401, 403}


def test_the_json_endpoint_serves_every_clause_to_a_user(evaluated: Standalone) -> None:
    status, body, _ = get(evaluated.url + "/backup-compliance/api/status", evaluated.token())
    data = json.loads(body)
    assert status == 200 and len(data["clauses"]) == CLAUSES
    assert {c["status"] for c in data["clauses"]} <= {"pass", "warn", "fail"}
    assert data["residency"].startswith("Backups are copied from eu-west-2")


def test_a_stored_pack_is_served_as_a_zip_and_nothing_else_is(with_history: Standalone) -> None:
    base, token = with_history.url + "/backup-compliance/packs/", with_history.token()
    status, body, headers = get(base + PACK, token)
    assert (status, body) == (200, PACK_BYTES)
    assert headers["content-type"] == "application/zip"
    missing = PACK.replace("0123456789", "9876543210")
    assert get(base + missing, token)[0] == 404
    assert get(base + "..%2F..%2Fsimple_auth_manager_passwords.json.generated", token)[0] == 404


def signed_in(playwright: Any, airflow: Standalone, theme: str) -> tuple[Any, Any]:
    """A laptop-sized browser signed in to Airflow with the UI's theme set as Airflow keeps
    it (next-themes: ``localStorage["theme"]``, shown as the ``dark``/``light`` class)."""
    user, password = airflow.login()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_context(viewport=LAPTOP).new_page()
    page.goto(f"{airflow.url}/")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.keyboard.press("Enter")
    page.get_by_role("link", name="Backup compliance").first.wait_for(timeout=60_000)
    page.evaluate("theme => localStorage.setItem('theme', theme)", theme)
    page.reload()
    page.wait_for_function("theme => document.documentElement.classList.contains(theme)", arg=theme)
    return browser, page


def serious_violations(results: Any) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_page_opens_from_the_navigation_with_its_charts_in_the_ui_theme(
    with_history: Standalone, theme: str
) -> None:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = signed_in(playwright, with_history, theme)
        page.get_by_role("link", name="Backup compliance").first.click()
        page.wait_for_selector("iframe", timeout=60_000)
        frame = page.frame_locator("iframe").first
        rows = frame.locator("#clauses tbody tr")
        rows.nth(CLAUSES - 1).wait_for(timeout=60_000)
        assert rows.count() == CLAUSES
        statuses = set(frame.locator("#clauses .status").all_inner_texts())
        assert statuses and statuses <= {"PASS", "WARN", "FAIL"}
        assert "Residency" in frame.locator("body").inner_text()
        inner = next(f for f in page.frames if f.url.rstrip("/").endswith("/backup-compliance"))
        assert inner.evaluate("t => document.documentElement.classList.contains(t)", theme)

        # every chart is an image named by its summary, shown in this theme, with its data
        charts = frame.locator("figure .charts[role=img]")
        status = get(with_history.url + "/backup-compliance/api/status", with_history.token())
        assets = len(json.loads(status[1])["assets"])
        assert charts.count() == 2 * assets + 4  # 30 and 90 days per asset; 4 more
        for n in range(charts.count()):
            label = charts.nth(n).get_attribute("aria-label") or ""
            assert len(label) > 20, label
            assert charts.nth(n).locator(f".theme-{theme} svg").is_visible()
            other = "dark" if theme == "light" else "light"
            assert not charts.nth(n).locator(f".theme-{other} svg").is_visible()
        assert frame.locator("figure details table").count() == charts.count()
        breach = frame.locator("#window-rds-swl-customers-prod-30 figcaption").inner_text()
        assert "1 breached" in breach
        assert frame.locator(f"#packs a[href='packs/{PACK}']").count() == 1
        assert frame.locator("time[title$=' UTC']").count() > 10

        # a laptop needs no horizontal scroll, in Airflow or inside the page
        for where in (page, inner):
            assert where.evaluate(
                "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            ), where.url

        # switching Airflow's theme switches the page at once
        flipped = "dark" if theme == "light" else "light"
        page.evaluate(
            "([a, b]) => document.documentElement.classList.replace(a, b)", [theme, flipped]
        )
        inner.wait_for_function(f"document.documentElement.classList.contains('{flipped}')")
        page.evaluate(
            "([a, b]) => document.documentElement.classList.replace(a, b)", [flipped, theme]
        )
        inner.wait_for_function(f"document.documentElement.classList.contains('{theme}')")

        violations = serious_violations(Axe().run(inner))
        assert not violations, violations

        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"compliance-page-{theme}.png"), full_page=True)
        whole = page.context.new_page()  # the page alone, whole, in the same session
        whole.goto(f"{with_history.url}/backup-compliance/")
        whole.wait_for_function(f"document.documentElement.classList.contains('{theme}')")
        assert whole.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        shot = SCREENSHOTS / f"compliance-page-{theme}-whole.png"
        whole.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 100_000
        browser.close()
