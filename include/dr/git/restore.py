"""Restoring a repository: push one of its dated bundles to a remote.

Branches and tags are pushed; nothing at the target is deleted unless the request
sets ``delete_other_refs``, and a ref that would move backwards (a rewritten
branch) is overwritten only with ``overwrite_refs``. Pushing to the original
GitHub repository needs its full name repeated in ``confirm_original``. The
bundle of record is read from the DR bucket (through this worker's cache), and is
decrypted into a private temporary folder that is removed afterwards.

A push GitHub refuses for a known reason (a token without write access or the
``workflow`` scope, a push over 2 GiB, an expired or SSO-unauthorised token; see
:data:`include.dr.git.remote.GITHUB_REFUSALS`) fails naming the cause and the fix. With
``--porcelain`` git prints each ref's refusal on stdout, so those lines are read into
the error along with stderr.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from include.dr.errors import Permanent
from include.dr.git import crypto
from include.dr.git.bundle import BundleRecord
from include.dr.git.bundle_store import BundleStore
from include.dr.git.mirror import check_objects
from include.dr.git.plans import PushChanges, PushPlan, RestoreRequest
from include.dr.git.remote import (
    GitError,
    GitFailed,
    GitHubRefused,
    GitRemote,
    call_git,
    git_error,
    run_git,
)
from include.dr.progress import Progress, human_bytes
from include.dr.restores import RestoreIncomplete, refuse

_REPOSITORY = re.compile(r"[A-Za-z0-9._-]{1,100}")
_SCHEMES = {"https", "ssh", "git", "http"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
PUSHED = ("refs/heads/", "refs/tags/")


log = logging.getLogger(__name__)


def validate_request(
    params: Mapping[str, Any], organisation: str, bundles: BundleStore, remote: GitRemote
) -> RestoreRequest:
    """The request, normalised; refuses by field before anything is read or pushed."""
    repository = str(params.get("repository") or "")
    if not _REPOSITORY.fullmatch(repository) or repository in {".", ".."}:
        refuse(
            "repository",
            f"{repository!r} is not a repository name",
            "Give the name alone (letters, digits, '.', '-', '_'), e.g. 'webapp'.",
        )
    days = bundles.days(organisation, repository)
    if not days:
        known = bundles.repositories(organisation)
        refuse(
            "repository",
            f"no backup of {organisation}/{repository} exists in the backup store",
            f"Choose a backed-up repository: {', '.join(known) or 'none'}.",
        )
    wanted = str(params.get("backup_date") or "latest")
    if wanted == "latest":
        day = days[-1]
    else:
        try:
            day = date.fromisoformat(wanted).isoformat()
        except ValueError:
            refuse("backup_date", f"{wanted!r} is not a date", "Use YYYY-MM-DD or 'latest'.")
        if day not in days:
            refuse(
                "backup_date",
                f"{organisation}/{repository} has no backup from {day}",
                f"Choose one of: {', '.join(days[-14:])}.",
            )
    target = validate_target_url(str(params.get("target_url") or ""))
    original = remote.url(organisation, repository)
    if _same_repository(target, original):
        confirmation = str(params.get("confirm_original") or "")
        if confirmation != f"{organisation}/{repository}":
            refuse(
                "confirm_original",
                f"the target is the original repository {original}",
                f"To push the backup back into it, type '{organisation}/{repository}' here.",
            )
    return {
        "organisation": organisation,
        "repository": repository,
        "day": day,
        "target_url": target,
        "is_original": _same_repository(target, original),
        "overwrite_refs": params.get("overwrite_refs") is True,
        "delete_other_refs": params.get("delete_other_refs") is True,
        "dry_run": params.get("dry_run") is not False,
    }


def validate_target_url(url: str) -> str:
    parts = urlsplit(url)
    if not url or len(url) > 500 or any(c.isspace() or ord(c) < 32 for c in url):
        refuse(
            "target_url",
            f"{url[:80]!r} is not a URL",
            "Give a git URL, e.g. https://github.com/org/repo.git.",
        )
    if parts.scheme not in _SCHEMES or url.startswith("-"):
        refuse(
            "target_url",
            f"the scheme {parts.scheme!r} is not one git pushes to safely",
            "Use https://, ssh:// or git:// (http:// only to this machine).",
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK:
        refuse("target_url", "plain http would send the token unencrypted", "Use https://.")
    if parts.username or parts.password:
        refuse(
            "target_url",
            "the URL carries credentials, which would end up in logs",
            "Remove them; the token comes from the github_restore connection.",
        )
    if ".." in parts.path.split("/"):
        refuse("target_url", "the path has '..' segments", "Give the repository's own path.")
    return url


def describe_bundle(bundles: BundleStore, request: RestoreRequest) -> BundleRecord:
    return bundles.record(request["organisation"], request["repository"], request["day"])


def push_plan(bundles: BundleStore, request: RestoreRequest, remote: GitRemote) -> PushPlan:
    """The backup's refs against the target's: what the push would change."""
    record = describe_bundle(bundles, request)
    before = remote_refs(request["target_url"], remote)
    changes = plan_push(record, before)
    log.info(
        "%s@%s: a bundle of %s (%d bytes); %d ref(s) to create, %d to update, at %s",
        f"{request['organisation']}/{request['repository']}",
        request["day"],
        human_bytes(record.size),
        record.size,
        len(changes["create"]),
        len(changes["update"]),
        request["target_url"],
    )
    return {
        **request,
        "bundle_sha256": record.sha256,
        "bundle_bytes": record.size,
        "target_refs_before": before,
        "changes": changes,
    }


def plan_push(record: BundleRecord, target_refs: Mapping[str, str]) -> PushChanges:
    """What the push would do to each ref at the target."""
    wanted = {ref: sha for ref, sha in record.refs.items() if ref.startswith(PUSHED)}
    return {
        "create": sorted(ref for ref in wanted if ref not in target_refs),
        "update": sorted(r for r in wanted if r in target_refs and target_refs[r] != wanted[r]),
        "unchanged": sorted(r for r in wanted if target_refs.get(r) == wanted[r]),
        "only_at_target": sorted(
            ref for ref in target_refs if ref.startswith(PUSHED) and ref not in wanted
        ),
    }


def remote_refs(url: str, remote: GitRemote) -> dict[str, str]:
    """The target's branches and tags; an unreachable target is refused by field."""
    try:
        listing = run_git(["ls-remote", "--heads", "--tags", url], remote=remote, timeout=120)
    except GitHubRefused as exc:
        fix = exc.refusal.fix
        refuse("target_url", f"{url} refused: {exc.refusal.cause}", f"{fix[:1].upper()}{fix[1:]}.")
    except GitError as exc:
        refuse(
            "target_url",
            f"cannot reach {url} ({exc})",
            "Create the repository first, or check the URL.",
        )
    refs = {}
    for line in listing.splitlines():
        sha, ref = line.split("\t", 1)
        if not ref.endswith("^{}"):
            refs[ref] = sha
    return refs


def push_bundle(
    bundles: BundleStore, request: RestoreRequest, key: bytes, remote: GitRemote
) -> dict[str, Any]:
    """Decrypt the bundle, clone it, push its branches and tags; the refs now at the target.

    A backup whose pack is over :func:`push_limit` is pushed branch by branch in increments
    first (:func:`push_increments`), so no single push nears GitHub's 2 GiB cap; the final
    push of every ref is then the one a small backup makes."""
    source = bundles.path(request["organisation"], request["repository"], request["day"])
    label = f"{request['organisation']}/{request['repository']}@{request['day']}"
    force = "+" if request["overwrite_refs"] else ""
    with tempfile.TemporaryDirectory(prefix="git-restore-") as work:
        plain = Path(work) / "backup.bundle"
        decrypting = Progress(
            f"decrypting the bundle of {label}", total_bytes=source.stat().st_size, unit="bytes"
        )
        with decrypting, source.open("rb") as sealed, plain.open("wb") as out:
            found, chunks = crypto.decrypt(sealed, key)
            if found != label:
                raise crypto.BundleDecryptError(
                    f"{source.name} is sealed as {found!r}, not {label!r}"
                )
            for chunk in chunks:
                out.write(chunk)
                decrypting.advance(bytes=len(chunk))
        clone = Path(work) / "clone.git"
        run_git(["clone", "--quiet", "--mirror", str(plain), str(clone)])
        check_objects(clone, what="the bundle's clone", fix="Choose an earlier backup_date.")
        limit = push_limit()
        size = new_bytes(clone, ["--branches", "--tags"], [])
        log.info(
            "pushing %s (%s of pack, %d bytes) to %s%s",
            label,
            human_bytes(size),
            size,
            request["target_url"],
            f" in increments of at most {human_bytes(limit)}" if size > limit else "",
        )
        pushing = Progress(
            f"pushing {label} to {request['target_url']}",
            total=None if size > limit else 1,
            unit="pushes",
        )
        increments: dict[str, int] = {}
        if size > limit:
            increments = push_increments(clone, request, remote, limit, pushing)
        push = ["--git-dir", str(clone), "push", "--porcelain"]
        if request["delete_other_refs"]:
            push.append("--prune")
        push += [
            request["target_url"],
            f"{force}refs/heads/*:refs/heads/*",
            f"{force}refs/tags/*:refs/tags/*",
        ]
        with pushing:
            done = call_git(push, remote=remote)
            pushing.advance(1)
    if done.returncode != 0:
        raise push_failure(done.returncode, done.stdout, done.stderr)
    return {
        "push_output": done.stdout.strip().splitlines()[-20:],
        "pack_bytes": size,
        "push_limit_bytes": limit,
        "pushes": 1 + sum(increments.values()),
        "increments": increments,
    }


PUSH_LIMIT_ENV = "BACKUP_GIT_PUSH_LIMIT_BYTES"
# Half GitHub's 2 GiB cap on one push: the estimate is the objects' size in the clone's
# pack, and a push may delta them less well.
DEFAULT_PUSH_LIMIT = 1 << 30


def push_limit() -> int:
    """The most pack one push should carry (``BACKUP_GIT_PUSH_LIMIT_BYTES``, 1 GiB)."""
    value = os.environ.get(PUSH_LIMIT_ENV, "")
    if not value:
        return DEFAULT_PUSH_LIMIT
    if not value.isdigit() or int(value) < 1:
        raise Permanent(
            f"{PUSH_LIMIT_ENV}={value!r} is not a positive number of bytes; "
            f"unset it for the default ({DEFAULT_PUSH_LIMIT}) or give e.g. 536870912"
        )
    return int(value)


def new_bytes(clone: Path, wanted: list[str], known: list[str]) -> int:
    """The size in the clone's pack of the objects reachable from ``wanted`` (commits or
    ``--branches``-like options) and not from ``known`` commits: what a push of ``wanted``
    to a target holding ``known`` sends, near enough (``git rev-list --disk-usage``)."""
    out = run_git(
        ["--git-dir", str(clone), "rev-list", "--objects", "--disk-usage", *wanted, "--stdin"],
        stdin="".join(f"^{sha}\n" for sha in known).encode(),
    )
    return int(out.strip() or 0)


def plan_increments(clone: Path, tip: str, known: list[str], limit: int) -> list[str]:
    """Commits of ``tip``'s first-parent history to push in turn, ending with ``tip``, each
    adding at most ``limit`` bytes to what was pushed before (a single commit larger than
    that is a step of its own: it cannot be split)."""
    listing = run_git(
        ["--git-dir", str(clone), "rev-list", "--reverse", "--first-parent", tip]
        + [f"^{sha}" for sha in known]
    )
    commits = listing.split()
    steps: list[str] = []
    start, base = 0, list(known)
    while start < len(commits):
        if new_bytes(clone, [commits[-1]], base) <= limit:
            steps.append(commits[-1])
            break
        low, high = start, len(commits) - 1  # commits[high] adds too much
        if new_bytes(clone, [commits[low]], base) <= limit:
            while high - low > 1:  # the furthest commit that still fits
                middle = (low + high) // 2
                if new_bytes(clone, [commits[middle]], base) <= limit:
                    low = middle
                else:
                    high = middle
        steps.append(commits[low])
        base = [*known, commits[low]]
        start = low + 1
    return steps


def push_increments(
    clone: Path,
    request: RestoreRequest,
    remote: GitRemote,
    limit: int,
    progress: Progress | None = None,
) -> dict[str, int]:
    """Push each branch to its own ref at the target in increments of at most ``limit``
    bytes; the number of pushes per branch.

    Only the backup's own branches are written, to the values of the backup's history,
    so the final push leaves the target as a single push would. No increment deletes
    (``--prune`` is the final push's alone) and none forces unless ``overwrite_refs``
    asked to. A branch whose increment the target refuses (its history differs and no
    overwrite was asked for) is left to the final push, which reports it as it would."""
    force = "+" if request["overwrite_refs"] else ""
    target = remote_refs(request["target_url"], remote)
    local = set(run_git(["--git-dir", str(clone), "rev-list", "--all"]).split())
    known = sorted({sha for sha in target.values() if sha in local})
    listing = run_git(
        ["--git-dir", str(clone), "for-each-ref", "--format=%(refname) %(objectname)"]
        + ["refs/heads/"]
    )
    head = call_git(["--git-dir", str(clone), "symbolic-ref", "-q", "HEAD"]).stdout.strip()
    # The backup's default branch first: GitHub makes an empty repository's first branch
    # its default.
    pairs = [line.split(" ", 1) for line in listing.splitlines()]
    branches = sorted(pairs, key=lambda pair: pair[0] != head)
    pushes: dict[str, int] = {}
    for ref, tip in branches:
        if target.get(ref) == tip:
            continue
        for commit in plan_increments(clone, tip, known, limit):
            done = call_git(
                ["--git-dir", str(clone), "push", "--porcelain", request["target_url"]]
                + [f"{force}{commit}:{ref}"],
                remote=remote,
            )
            pushes[ref] = pushes.get(ref, 0) + 1
            if progress is not None:
                progress.advance(1)
            if done.returncode != 0:
                kind = push_failure(done.returncode, done.stdout, done.stderr)
                if isinstance(kind, GitFailed) and not isinstance(kind, GitHubRefused):
                    break  # this branch is refused (not a fast-forward): the final push says so
                raise kind  # GitHub's refusal, or the network: the final push would fail alike
            known.append(commit)
    return pushes


def push_failure(returncode: int, stdout: str, stderr: str) -> GitError:
    """A failed ``git push --porcelain`` as the kind of error it is: its refused refs
    (``!`` lines on stdout, where GitHub's reason is) are read with its stderr."""
    refused = [line for line in stdout.splitlines() if line.startswith("!")][:20]
    return git_error(f"git push failed ({returncode}): {stderr}\n" + "\n".join(refused))


def _same_repository(first: str, second: str) -> bool:
    def key(url: str) -> tuple[str, str]:
        parts = urlsplit(url)
        return (parts.hostname or "").lower(), parts.path.rstrip("/").removesuffix(".git").lower()

    return key(first) == key(second)


def push_and_check(
    bundles: BundleStore, plan: RestoreRequest, key: bytes, remote: GitRemote
) -> dict[str, Any]:
    """Push, then compare the target's branches and tags with the backup's."""
    refusal = None
    try:
        result, error = push_bundle(bundles, plan, key, remote), None
    except GitError as exc:
        result, error = {}, str(exc)
        refusal = exc.refusal.name if isinstance(exc, GitHubRefused) else None
    after = remote_refs(plan["target_url"], remote)
    record = describe_bundle(bundles, plan)
    expected = {ref: sha for ref, sha in record.refs.items() if ref.startswith(PUSHED)}
    differing = sorted(ref for ref, sha in expected.items() if after.get(ref) != sha)
    return {
        **result,
        "push_error": error,
        "push_refusal": refusal,
        "target_refs_after": after,
        "refs_pushed": len(expected),
        "differing_refs": differing,
        "refs_equal_backup": not differing and error is None,
    }


def check_restored(checked: Mapping[str, Any]) -> None:
    """Raise :class:`RestoreIncomplete` (permanent) when the target does not hold the
    backup's branches and tags after the push."""
    if checked["refs_equal_backup"]:
        return
    if checked.get("push_refusal"):  # the error already names GitHub's cause and the fix
        raise RestoreIncomplete(
            f"the target does not hold the backup's refs {checked['differing_refs']}: "
            f"{checked['push_error']}"
        )
    raise RestoreIncomplete(
        f"the target does not hold the backup's refs {checked['differing_refs']} "
        f"({checked['push_error'] or 'rejected'}); set overwrite_refs to replace "
        "branches whose history differs"
    )
