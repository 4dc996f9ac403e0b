"""The git backup's per-repository verdicts with real git: empty and emptied repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from include.dr.evidence import evidence_store
from include.dr.git import backup
from include.dr.git.mirror import inspect_mirror, mirror_path
from include.dr.git.remote import GitRemote
from tests.gitrepos import Upstream

LOCAL = GitRemote("")
KEY = bytes(range(32))
RUN = ("git_backup", "unit-run")


@pytest.fixture
def upstream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Upstream:
    monkeypatch.setenv("BACKUP_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("BACKUP_EVIDENCE_DIR", str(tmp_path / "evidence"))
    return Upstream(tmp_path / "server", ("app", "lib"))


def batch(upstream: Upstream, day: str) -> dict[str, Any]:
    return {
        "organisation": upstream.organisation,
        "day": day,
        "dr_bucket": None,
        "dr_region": "eu-west-1",
        "kms_key_arn": None,
        "repositories": [
            {"name": name, "url": str(upstream.bare(name)), "optional": False}
            for name in upstream.names
        ],
    }


def run(upstream: Upstream, day: str, try_number: int = 1, max_tries: int = 3) -> dict[str, Any]:
    return backup.back_up_batch(
        batch(upstream, day), LOCAL, KEY, None, RUN[0], f"{RUN[1]}-{day}", try_number, max_tries
    )


def evidence(upstream: Upstream, name: str, day: str) -> Any:
    asset = backup.asset_name(upstream.organisation, name)
    return evidence_store().get(backup.EVIDENCE_KIND, asset, RUN[0], f"{RUN[1]}-{day}")


def bundles(upstream: Upstream, name: str) -> dict[str, bytes]:
    folder = backup.bundles_dir() / upstream.organisation / name
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*"))} if folder.exists() else {}


def test_a_repository_with_no_commits_is_recorded_as_empty_and_neither_fails_nor_retries(
    upstream: Upstream,
) -> None:
    upstream.add_empty("new")
    result = run(upstream, "2026-11-01")  # try 1 of 4: a failure would raise to retry
    assert (result["failed"], result["empty"], result["backed_up"]) == ([], ["new"], ["app", "lib"])
    record = evidence(upstream, "new", "2026-11-01")
    assert record.outcome == "pass"
    assert record.details["verdict"] == backup.EMPTY
    assert record.details["refs"] == {} and "bundle" not in record.details
    assert bundles(upstream, "new") == {}
    assert evidence(upstream, "app", "2026-11-01").details["verdict"] == backup.BUNDLED


def test_a_repository_emptied_upstream_keeps_its_mirror_and_bundles_and_warns(
    upstream: Upstream, caplog: pytest.LogCaptureFixture
) -> None:
    run(upstream, "2026-11-01")
    mirror = mirror_path(backup.mirrors_dir(), upstream.organisation, "lib")
    refs_before, bundles_before = inspect_mirror(mirror, LOCAL).refs, bundles(upstream, "lib")
    upstream.empty("lib")

    result = run(upstream, "2026-11-02")
    assert (result["failed"], result["emptied"], result["backed_up"]) == ([], ["lib"], ["app"])
    assert inspect_mirror(mirror, LOCAL).refs == refs_before
    assert bundles(upstream, "lib") == bundles_before  # no new bundle, none changed
    record = evidence(upstream, "lib", "2026-11-02")
    assert record.outcome == "warn"
    assert record.details["verdict"] == backup.EMPTIED
    assert record.details["mirror"] == "kept"
    assert record.details["kept"] == {"mirror": True, "bundles": ["2026-11-01.json"]}
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"{upstream.organisation}/lib" in w and "no branch or tag" in w for w in warnings)


def test_retention_never_reaches_the_bundles_of_an_empty_or_emptied_repository(
    upstream: Upstream,
) -> None:
    upstream.add_empty("new")
    run(upstream, "2026-11-01")
    upstream.empty("lib")
    result = run(upstream, "2026-11-02")
    plan = {**batch(upstream, "2026-11-02"), "dr_bucket": "dr"}
    targets = backup.retention_targets(plan, result["backed_up"], "aws_dr")
    assert {t["inventory_args"]["repository"] for t in targets} == {"app"}


def test_the_run_summary_warns_and_alerts_once_for_an_emptied_repository(
    upstream: Upstream,
) -> None:
    run(upstream, "2026-11-01")
    upstream.add_empty("blank")
    upstream.empty("lib")
    result = run(upstream, "2026-11-02")
    sent: list[tuple[str, str]] = []
    plan = {**batch(upstream, "2026-11-02"), "source": "pinned", "listed": list(upstream.names)}
    summary = backup.summarise(
        {**plan, "vanished": []}, [result], *RUN, alert=lambda s, m: sent.append((s, m))
    )
    assert (summary["empty"], summary["emptied_upstream"]) == (["blank"], ["lib"])
    record = evidence_store().get(
        f"{backup.EVIDENCE_KIND}_run", f"git/{upstream.organisation}", *RUN
    )
    assert record.outcome == "warn"
    assert len(sent) == 1 and "lib" in sent[0][1] and "blank" not in sent[0][1]
