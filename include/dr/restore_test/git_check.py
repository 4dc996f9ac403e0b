"""The git part of the restore test: decrypt each repository's latest bundle, clone from it,
``git fsck`` the clone, and compare every ref with the one the backup's evidence recorded."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from include.dr.git import crypto
from include.dr.git.bundle_store import BundleStore
from include.dr.git.mirror import check_objects
from include.dr.git.remote import GitError, run_git


def check_repository(
    bundles: BundleStore,
    repo: Mapping[str, Any],
    key: bytes,
    recorded_refs: Mapping[str, str] | None,
) -> dict[str, Any]:
    """Fetch one repository's bundle of record from the DR bucket (never trusting a cache),
    restore it into a scratch clone and check it."""
    organisation, name, day = repo["organisation"], repo["repository"], repo["day"]
    result: dict[str, Any] = {"repository": f"{organisation}/{name}", "day": day}
    try:
        source = bundles.path(organisation, name, day, fetch=True)
        with tempfile.TemporaryDirectory(prefix="restore-test-git-") as work:
            plain = Path(work) / "backup.bundle"
            with source.open("rb") as sealed, plain.open("wb") as out:
                label, chunks = crypto.decrypt(sealed, key)
                if label != f"{organisation}/{name}@{day}":
                    raise crypto.BundleDecryptError(f"sealed as {label!r}")
                for chunk in chunks:
                    out.write(chunk)
            clone = Path(work) / "clone.git"
            run_git(["clone", "--quiet", "--mirror", str(plain), str(clone)])
            check_objects(clone, what="the bundle's clone", fix="The bundle is damaged.")
            listing = run_git(
                ["--git-dir", str(clone), "for-each-ref", "--format=%(objectname) %(refname)"]
            )
    except (OSError, GitError, crypto.BundleDecryptError, ClientError) as exc:
        return {**result, "success": False, "problem": f"{type(exc).__name__}: {exc}"}
    refs = {ref: sha for sha, ref in (line.split(" ", 1) for line in listing.splitlines() if line)}
    expected = {r: s for r, s in (recorded_refs or {}).items() if r != "HEAD"}
    differing = sorted(
        set(expected) ^ set(refs) | {r for r in expected if refs.get(r) != expected[r]}
    )
    problem = None
    if recorded_refs is None:
        problem = "no backup evidence records this bundle's refs"
    elif differing:
        problem = f"refs differ from the backup's evidence: {', '.join(differing[:10])}"
    return {
        **result,
        "refs": len(refs),
        "fsck": "clean",
        "differing_refs": differing,
        "problem": problem,
        "success": problem is None,
    }
