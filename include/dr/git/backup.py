"""The steps of the daily git backup per repository, and the run's bookkeeping.

Per repository: update the mirror, ``git fsck`` it, write the day's encrypted
bundle to the local backup store (verified before it is named) and, where the
policy names a DR bucket, upload it (:mod:`include.dr.git.upload`). A repository
that fails is recorded and named, and the others carry on. While the batch task
has tries left and a failure may mend (the network, a hosting service's passing
502), it raises :class:`RepositoriesToRetry` so that Airflow retries it with
backoff, and a retry redoes only the repositories not yet backed up; a repository
refused or missing upstream is not retried. The run's summary then fails it,
naming them. Nothing here deletes a mirror or a bundle: a repository gone
upstream keeps both and is reported.

Each repository gets a verdict in its evidence: ``bundled``; ``empty`` (no
commits, nothing to bundle: a pass, not retried); ``emptied upstream`` (every
branch and tag deleted while the mirror or the store still holds its history:
the mirror and bundles are kept as they were, no bundle is made, retention
leaves it alone, and the run warns and alerts once, naming it); or ``failed``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from include.dr.asset_names import git_asset, git_organisation_asset
from include.dr.errors import Permanent, Transient, is_transient
from include.dr.evidence import Outcome, evidence_store
from include.dr.evidence import record as record_evidence
from include.dr.git.bundle import BundleRecord, bundle_path, bundles_dir, write_bundle
from include.dr.git.bundle_store import BundleMissing, BundleStore
from include.dr.git.discovery import Repository
from include.dr.git.mirror import mirror_path, mirrors_dir, refresh_mirror, update_mirror
from include.dr.git.plans import BackupPlan, Batch, BatchResult, Failure
from include.dr.git.remote import GitRemote, scrub
from include.dr.git.upload import RUN_EVIDENCE_KIND, upload_bundle
from include.dr.progress import Progress
from include.dr.run_info import RunInfo

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

EVIDENCE_KIND = "git_backup"
THREADS = int(os.environ.get("BACKUP_GIT_THREADS", "4"))
# Each repository's verdict in its evidence.
BUNDLED = "bundled"
EMPTY = "empty"
EMPTIED = "emptied upstream"
FAILED = "failed"
# A repository's outcome in the batch result, and its evidence outcome.
EVIDENCE_OUTCOMES: dict[str, Outcome] = {
    "pass": "pass",
    "empty": "pass",
    "emptied": "warn",
    "fail": "fail",
}

log = logging.getLogger(__name__)


class GitBackupFailed(Permanent):
    """Some repositories were not backed up after every try; each is named in the evidence."""


class RepositoriesToRetry(Transient):  # noqa: N818 - it reads as what happens next
    """Some repositories of a batch failed in a way that may mend and the task has tries
    left: Airflow retries it (with backoff, holding no worker slot while it waits)."""


def may_mend(error: Exception) -> bool:
    """Whether asking again may back up a repository that failed with ``error``: our
    errors say so by their class, AWS by its answer; anything else (a disk, a timeout)
    is retried, as a person could not act on it sooner."""
    if isinstance(error, Permanent):
        return False
    if isinstance(error, ClientError):
        return is_transient(error)
    return True


def back_up_batch(
    batch: Batch, remote: GitRemote, key: bytes, dr_s3: S3Client | None, run: RunInfo
) -> BatchResult:
    """Back up each repository of the batch with a small thread pool.

    On a retry, repositories that an earlier try of this run backed up are taken from
    its evidence, not done again. Raises :class:`RepositoriesToRetry` while tries remain
    and a failure may mend; otherwise returns the failures for :func:`summarise`.
    """
    repositories = [Repository(**repo) for repo in batch["repositories"]]
    earlier = {
        repo.name: _earlier_pass(batch["organisation"], repo.name, run)
        for repo in repositories
        if run.try_number > 1
    }
    todo = [repo for repo in repositories if earlier.get(repo.name) is None]
    progress = Progress(
        f"backing up {len(todo)} repositories of {batch['organisation']}",
        total=len(todo),
        unit="repositories",
    )

    def one(repo: Repository) -> dict[str, Any]:
        try:
            return back_up_repository(batch, repo, remote, key, dr_s3, run)
        finally:
            progress.advance(1)

    with progress, ThreadPoolExecutor(THREADS, thread_name_prefix="git-backup") as pool:
        outcomes = list(pool.map(one, todo))
    outcomes += [done for done in earlier.values() if done is not None]
    result = batch_result(outcomes)
    retry_decision(result["failed"], run)
    return result


def batch_result(outcomes: list[dict[str, Any]]) -> BatchResult:
    """The batch's repositories by outcome."""
    return {
        "repositories": len(outcomes),
        "backed_up": sorted(o["name"] for o in outcomes if o["outcome"] == "pass"),
        "skipped": sorted(o["name"] for o in outcomes if o["outcome"] == "skipped"),
        "empty": sorted(o["name"] for o in outcomes if o["outcome"] == "empty"),
        "emptied": sorted(o["name"] for o in outcomes if o["outcome"] == "emptied"),
        "failed": [
            {"name": o["name"], "error": o["error"], "transient": bool(o.get("transient"))}
            for o in outcomes
            if o["error"]
        ],
        "bundles_made": sum(1 for o in outcomes if o.get("bundle_made")),
    }


def retry_decision(failed: list[Failure], run: RunInfo) -> None:
    """Raise :class:`RepositoriesToRetry` (transient: Airflow retries the batch) when a
    failure may mend and the task has tries left; else let the failures be summarised."""
    mending = [f["name"] for f in failed if f["transient"]]
    if mending and run.tries_remain:
        raise RepositoriesToRetry(
            f"not backed up on try {run.try_number} of {run.max_tries + 1}: "
            f"{', '.join(mending)}; the retry redoes only the repositories not backed up"
        )


def _earlier_pass(organisation: str, name: str, run: RunInfo) -> dict[str, Any] | None:
    """The outcome of this run's earlier try for a repository, if that try backed it up
    (or found it empty)."""
    found = evidence_store().get(
        EVIDENCE_KIND, git_asset(organisation, name), run.dag_id, run.run_id
    )
    if found is None or found.outcome != "pass":
        return None
    made = bool(found.details.get("bundle_made"))
    outcome = "empty" if found.details.get("verdict") == EMPTY else "pass"
    return {"name": name, "outcome": outcome, "error": None, "bundle_made": made}


def back_up_repository(
    batch: Batch,
    repo: Repository,
    remote: GitRemote,
    key: bytes,
    dr_s3: S3Client | None,
    run: RunInfo,
) -> dict[str, Any]:
    """Mirror, check, bundle and (optionally) upload one repository; record its evidence.

    An empty repository has nothing to bundle; one emptied upstream keeps its mirror and
    bundles as they were and warns. Neither fails."""
    organisation, day = batch["organisation"], batch["day"]
    started = datetime.now(UTC)
    path = mirror_path(mirrors_dir(), organisation, repo.name)
    bundles = BundleStore(bundles_dir(), dr_s3, batch["dr_bucket"])
    transient = False
    details: dict[str, Any] = {
        "repository": f"{organisation}/{repo.name}",
        "day": day,
        "url": repo.url,
    }
    try:
        if repo.optional and not path.exists():
            try:
                update_mirror(path, repo.url, remote)
            except Exception:  # noqa: BLE001 - an enabled wiki without pages has no repository
                return {"name": repo.name, "outcome": "skipped", "error": None}
        update, state = refresh_mirror(path, repo.url, remote)
        details |= {"mirror": update.action, "mirror_seconds": update.seconds}
        if update.note:
            details["mirror_note"] = update.note
            log.warning("%s/%s: %s", organisation, repo.name, update.note)
        details |= {
            "fsck": state.fsck,  # "clean" or "warnings"; an fsck error raised above
            "fsck_warnings": list(state.fsck_warnings),  # bounded: FSCK_LINES_KEPT and a count
            "lfs": state.lfs,
        }
        kept = bundles.days(organisation, repo.name)
        if update.action == "kept" or (not state.refs and kept):
            details |= {
                "verdict": EMPTIED,
                "refs": state.refs,
                "kept": {"mirror": bool(state.refs), "bundles": kept},
                "bundle_made": False,
            }
            log.warning(
                "%s/%s lists no branch or tag upstream, but its backups hold history: its mirror "
                "(%d refs) and %d bundle(s) are kept as they were, and no bundle was made today. "
                "If it was emptied on purpose, take it out of the policy or delete it upstream; "
                "if not, restore it from its newest bundle (restore_git DAG).",
                organisation,
                repo.name,
                len(state.refs),
                len(kept),
            )
            outcome, error = "emptied", None
        elif not state.refs:
            details |= {"verdict": EMPTY, "refs": {}, "bundle_made": False}
            log.info("%s/%s has no commits: nothing to bundle", organisation, repo.name)
            outcome, error = "empty", None
        else:
            target = bundle_path(bundles_dir(), organisation, repo.name, day)
            bundle, made = _day_of_record(bundles, organisation, repo.name, day, kept) or (
                write_bundle(path, target, key, f"{organisation}/{repo.name}", day)
            )
            details |= {
                "verdict": BUNDLED,
                "refs": bundle.refs,
                "mirror_matches_bundle": _without_head(bundle.refs) == state.refs,
                "bundle": {k: v for k, v in asdict(bundle).items() if k != "refs"},
                "bundle_made": made,
            }
            if dr_s3 is not None and batch["dr_bucket"]:
                details["dr_copy"] = upload_bundle(dr_s3, batch, repo.name, target, bundle)
                details["cache_pruned"] = bundles.prune_cache(organisation, repo.name, day)
            outcome, error = "pass", None
    except Exception as exc:  # noqa: BLE001 - one repository never stops the others
        transient = may_mend(exc)
        error = scrub(f"{type(exc).__name__}: {exc}", remote)
        kept = _kept_bundles(bundles, organisation, repo.name)
        details |= {
            "verdict": FAILED,
            "error": error,
            "transient": transient,
            "kept": {"mirror": path.exists(), "bundles": kept},
        }
        error = f"{error} (its mirror and {len(kept)} bundle(s) are kept)"
        outcome = "fail"
    details["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 3)
    record_evidence(
        kind=EVIDENCE_KIND,
        asset=git_asset(organisation, repo.name),
        dag_id=run.dag_id,
        run_id=run.run_id,
        outcome=EVIDENCE_OUTCOMES[outcome],
        details=details,
    )
    return {
        "name": repo.name,
        "outcome": outcome,
        "error": error,
        "transient": transient,
        "bundle_made": details.get("bundle_made", False),
    }


def _day_of_record(
    bundles: BundleStore, organisation: str, name: str, day: str, days: list[str]
) -> tuple[BundleRecord, bool] | None:
    """The day's bundle of record when an earlier run made it, on this worker or another:
    a re-run of the day never makes a second bundle (nor clashes with the first)."""
    if bundles.s3 is None or day not in days:
        return None
    return bundles.record(organisation, name, day), False


def _kept_bundles(bundles: BundleStore, organisation: str, name: str) -> list[str]:
    """The days of a repository's bundles of record; none when they cannot be listed."""
    try:
        return bundles.days(organisation, name)
    except (ClientError, BundleMissing):
        return []


def summarise(
    plan: BackupPlan,
    results: list[BatchResult],
    run: RunInfo,
    alert: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """The organisation's evidence for the run; fails it, naming them, if any repository
    failed. Repositories no longer listed upstream are reported, never pruned; repositories
    emptied upstream warn and ``alert`` once, naming them."""
    failed = [f for result in results for f in result["failed"]]
    emptied = sorted(n for r in results for n in r.get("emptied", []))
    summary: dict[str, Any] = {
        "organisation": plan["organisation"],
        "day": plan["day"],
        "source": plan["source"],
        "listed": len(plan["listed"]),
        "backed_up": sorted(n for r in results for n in r["backed_up"]),
        "skipped_empty_wikis": sorted(n for r in results for n in r["skipped"]),
        "empty": sorted(n for r in results for n in r.get("empty", [])),
        "emptied_upstream": emptied,
        "bundles_made": sum(r["bundles_made"] for r in results),
        "failed": failed,
        "no_longer_listed": plan["vanished"],
    }
    outcome: Outcome = "fail" if failed else "warn" if plan["vanished"] or emptied else "pass"
    record_evidence(
        kind=RUN_EVIDENCE_KIND,
        asset=git_organisation_asset(plan["organisation"]),
        dag_id=run.dag_id,
        run_id=run.run_id,
        outcome=outcome,
        details=summary,
    )
    if emptied and alert is not None:
        organisation = plan["organisation"]
        alert(
            f"Git repositories emptied upstream: {organisation}",
            f"{run.dag_id} run {run.run_id}: {', '.join(emptied)} in {organisation} list no "
            "branch or tag upstream. Their mirrors and bundles are kept as they were and "
            "retention leaves them alone. If a repository was emptied on purpose, take it out "
            "of the policy or delete it upstream; if not, restore it from its newest bundle "
            "(restore_git DAG).",
        )
    if failed:
        names = "; ".join(f"{f['name']}: {f['error']}" for f in failed[:10])
        raise GitBackupFailed(f"{len(failed)} repositories were not backed up: {names}")
    return {k: v for k, v in summary.items() if k != "backed_up"} | {
        "backed_up": len(summary["backed_up"])
    }


def _without_head(refs: dict[str, str]) -> dict[str, str]:
    return {ref: sha for ref, sha in refs.items() if ref != "HEAD"}
