"""The compliance page's rendering and its report route's guard against other files."""

from __future__ import annotations

import copy
import re
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


POLICY_NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
RUN_LINK = "/dags/{dag_id}/runs/{run_id}"


def history_page(tmp_path: Path) -> tuple[dict[str, Any], str]:
    from include.dr.compliance import figures
    from tests.include.dr.compliance.history import seed

    store = EvidenceStore(tmp_path / "evidence")
    policy = load_policy()
    seed(store, policy, POLICY_NOW.date())
    data = page_data(policy, store, POLICY_NOW)
    return data, render(data, RUN_LINK, figures.build(policy, store, POLICY_NOW))


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    return history_page(tmp_path_factory.mktemp("history"))


def test_every_chart_is_an_image_named_by_its_summary_with_its_data_as_a_table(
    seeded: tuple[dict[str, Any], str],
) -> None:
    data, page = seeded
    figures = re.findall(
        r'<figure class="figure" id="([^"]+)"><div class="charts" role="img" aria-label="([^"]+)">'
        r"(.*?)</div><figcaption>([^<]+)</figcaption><details>(.*?)</details></figure>",
        page,
        re.S,
    )
    assert len(figures) == 2 * len(data["assets"]) + 4  # 30 and 90 days per asset, and 4
    for key, label, charts, caption, table in figures:
        assert label == caption and len(label) > 20, key
        assert charts.count("<svg") == 2 and "theme-light" in charts and "theme-dark" in charts
        assert "<table" in table, key
    windows = {key: label for key, label, *_ in figures if key.startswith("window-")}
    assert "1 breached" in windows["window-rds-swl-customers-prod-30"]
    assert "1 outside it with the recorded override" in windows["window-s3-swl-system-data-30"]
    grid = next(label for key, label, *_ in figures if key == "grid")
    assert "The last 7 runs inside the backup window" in grid  # the day after the breach


def test_times_are_in_the_policys_zone_with_the_utc_instant_on_hover(
    seeded: tuple[dict[str, Any], str],
) -> None:
    _, page = seeded
    times = re.findall(r'<time datetime="([^"]+)" title="([^"]+) UTC">([^<]+)</time>', page)
    assert len(times) > 10
    for instant, utc, shown in times:
        moment = datetime.fromisoformat(instant)
        assert utc == f"{moment:%Y-%m-%d %H:%M:%S}"
        assert shown.endswith((" GMT", " BST"))  # Europe/London, the policy's zone


def test_run_links_read_as_words(seeded: tuple[dict[str, Any], str]) -> None:
    _, page = seeded
    words = re.findall(r'<a target="_top" href="/dags/[^"]+"[^>]*>([^<]+)</a>', page)
    assert words
    for text in words:
        assert re.fullmatch(
            r"([\w/.-]+: )?(evaluation )?(scheduled |manual )?run of \d{1,2} [A-Z][a-z]{2}", text
        ), text


def test_each_assets_dr_copy_is_its_newest_backup(seeded: tuple[dict[str, Any], str]) -> None:
    data, page = seeded
    copies = {a["asset"]: a["dr_copy"] for a in data["assets"]}
    day = "2026-11-29"  # the history's last night
    assert copies["rds/swl-customers-prod"].startswith(
        f"snapshot swl-customers-prod-{day} in eu-west-1"
    )
    assert copies["s3/swl-system-data"].startswith("s3://swl-system-data-dr/.backup/manifests/")
    assert f"/{day}/" in copies["s3/swl-system-data"]
    assert copies["git/social-workshop/webapp"].endswith(f"/{day}/bundle.enc")


def test_evidence_packs_are_listed_and_linked(seeded: tuple[dict[str, Any], str]) -> None:
    from tests.include.dr.compliance.history import PACK

    data, page = seeded
    assert [p["name"] for p in data["evidence_packs"]] == [PACK]
    assert f'<a href="packs/{PACK}" download>evidence pack 2026-10-01 to 2026-10-31</a>' in page


def test_a_fresh_install_shows_every_section_with_nothing_to_chart(tmp_path: Path) -> None:
    from include.dr.compliance import figures

    store, policy = EvidenceStore(tmp_path / "evidence"), load_policy()
    data = page_data(policy, store, POLICY_NOW)
    page = render(data, RUN_LINK, figures.build(policy, store, POLICY_NOW))
    assert page.count('role="img"') == 2 * len(data["assets"]) + 4
    for text in (
        "no restore test has run yet",
        "No evidence pack has been built yet",
        "No evaluation recorded yet.",
        "No good backup recorded yet.",
        "Workstations are out of scope",
    ):
        assert text in page


def test_an_unchanged_history_is_drawn_again_without_rendering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import vl_convert

    from include.dr.compliance import figures

    store, policy = EvidenceStore(tmp_path / "evidence"), load_policy()
    first = figures.build(policy, store, POLICY_NOW)

    def refuse(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("rendered again")

    monkeypatch.setattr(vl_convert, "vegalite_to_svg", refuse)
    assert figures.build(policy, store, POLICY_NOW) == first
