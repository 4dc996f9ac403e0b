"""Dated encrypted bundles with real git: made once per day, proved before they are named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from include.dr.git import crypto
from include.dr.git.bundle import bundle_path, sidecar_path, verify_bundle, write_bundle
from include.dr.git.mirror import inspect_mirror, mirror_path, update_mirror
from include.dr.git.remote import GitError, GitRemote
from tests.gitrepos import Upstream, git

KEY = bytes(range(32))
REPO = "org/app"


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    upstream = Upstream(tmp_path / "server", ("app",))
    path = mirror_path(tmp_path / "cache", "org", "app")
    update_mirror(path, str(upstream.bare("app")), GitRemote(""))
    return path


def test_a_day_gets_one_bundle_however_often_the_run_repeats(mirror: Path, tmp_path: Path) -> None:
    target = bundle_path(tmp_path / "bundles", "org", "app", "2026-11-27")
    first, made = write_bundle(mirror, target, KEY, REPO, "2026-11-27")
    assert made and first.verified
    assert first.refs == {**inspect_mirror(mirror, GitRemote("")).refs, "HEAD": first.refs["HEAD"]}
    again, made_again = write_bundle(mirror, target, KEY, REPO, "2026-11-27")
    assert (made_again, again.sha256) == (False, first.sha256)
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "2026-11-27.bundle.enc",
        "2026-11-27.json",
    ]
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    assert json.loads(sidecar_path(target).read_text())["key_fingerprint"] == crypto.fingerprint(
        KEY
    )


def test_a_bundle_left_unverified_by_an_earlier_attempt_is_kept_aside_not_trusted(
    mirror: Path, tmp_path: Path
) -> None:
    target = bundle_path(tmp_path / "bundles", "org", "app", "2026-11-27")
    target.parent.mkdir(parents=True)
    target.write_bytes(b"half a bundle")
    record, made = write_bundle(mirror, target, KEY, REPO, "2026-11-27")
    assert made and record.size == target.stat().st_size
    kept = [p for p in target.parent.iterdir() if ".unverified-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes() == b"half a bundle"


def test_a_failed_bundle_leaves_nothing_that_looks_like_a_backup(tmp_path: Path) -> None:
    empty = tmp_path / "empty.git"
    git("init", "-q", "--bare", str(empty))
    target = bundle_path(tmp_path / "bundles", "org", "empty", "2026-11-27")
    with pytest.raises(GitError, match="bundle"):
        write_bundle(empty, target, KEY, "org/empty", "2026-11-27")
    assert list(target.parent.iterdir()) == []


def test_verification_refuses_a_bundle_sealed_for_another_repository(
    mirror: Path, tmp_path: Path
) -> None:
    target = bundle_path(tmp_path / "bundles", "org", "app", "2026-11-27")
    record, _ = write_bundle(mirror, target, KEY, REPO, "2026-11-27")
    with pytest.raises(crypto.BundleDecryptError, match="sealed as 'org/app@2026-11-27'"):
        verify_bundle(mirror, target, KEY, "org/other@2026-11-27", record.plaintext_sha256)


def test_writing_a_bundle_logs_the_bytes_through_the_cipher(
    mirror: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.progress_lines import progress_lines

    target = bundle_path(tmp_path / "bundles", "org", "app", "2026-11-28")
    with progress_lines(caplog, monkeypatch) as lines:
        record, _ = write_bundle(mirror, target, KEY, REPO, "2026-11-28")
    assert lines and lines[-1].startswith("writing the bundle of org/app for 2026-11-28 done:")
    written = lines[-1].split("done: ")[1].split(" of ")[0]
    assert written.endswith(("B", "KiB")) and record.size > 0
