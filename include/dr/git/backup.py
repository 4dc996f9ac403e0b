"""The steps of the daily git backup, one function each, called by the DAG's tasks.

Per repository: update the mirror, ``git fsck`` it, write the day's encrypted
bundle to the local backup store and, where the policy names a DR bucket, upload
it with SSE-KMS. A repository that fails is recorded and named, and the others
carry on. While the batch task has tries left, it then raises so that Airflow
retries it with backoff (a hosting service's passing 502 is not a lost day), and
a retry redoes only the repositories that failed; after the last try the run
fails, naming them. Nothing here deletes a mirror or a bundle: a repository gone
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
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk.exceptions import AirflowFailException
from botocore.exceptions import ClientError

from include.dr.evidence import Outcome, evidence_store
from include.dr.evidence import record as record_evidence
from include.dr.git.bundle import BundleRecord, bundle_path, sidecar_path, write_bundle
from include.dr.git.discovery import Repository, discover, pinned
from include.dr.git.mirror import inspect_mirror, mirror_path, update_mirror
from include.dr.git.remote import GitRemote, scrub
from include.dr.kms import KeyUnavailable, resolve_key
from include.dr.policy.model import BackupPolicy
from include.dr.project import state_dir
from include.dr.s3.guardrails import check_dr_bucket
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY
from include.dr.window import run_window

EVIDENCE_KIND = "git_backup"
STORE_ENV = "BACKUP_STORE_DIR"
MAX_BATCHES = 4
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


class GitBackupFailed(AirflowFailException):
    """Some repositories were not backed up; each is named in the evidence."""


class RepositoriesToRetry(Exception):  # noqa: N818 - it reads as what happens next
    """Some repositories of a batch failed and the task has tries left: Airflow retries it
    (with backoff, holding no worker slot while it waits)."""


def store_root() -> Path:
    """The local backup store: a mounted volume in production, ``.local/backup-store`` here."""
    return Path(os.environ.get(STORE_ENV) or state_dir() / "backup-store").resolve()


def mirrors_dir() -> Path:
    return store_root() / "git" / "mirrors"


def bundles_dir() -> Path:
    return store_root() / "git" / "bundles"


def asset_name(organisation: str, name: str) -> str:
    return f"git/{organisation}/{name}"


def dr_prefix(organisation: str, name: str, day: str) -> str:
    """The DR bucket folder of one day's bundle (a dated folder, as retention expects)."""
    return f"git/{organisation}/{name}/{day}/"


def check_dr_bucket_for_bundles(
    policy: BackupPolicy, dr_s3: Any, dr_kms: Any, dag_id: str, run_id: str
) -> str | None:
    """The DR key's ARN when bundles go to a DR bucket that passes every guardrail; a
    violation is recorded and fails the run before anything is fetched or uploaded."""
    asset = policy.assets.github
    if asset is None or asset.dr_bucket is None:
        return None
    region = policy.regions.dr
    local = dr_s3.meta.endpoint_url.startswith("http://")
    try:
        key_arn = resolve_key(dr_kms, policy.kms_key(region), region)
        checks = check_dr_bucket(
            dr_s3, dr_kms, asset.dr_bucket, region, key_arn, policy.retention.minimum_days, local
        )
    except KeyUnavailable as exc:
        checks, key_arn = [], ""
        reason = str(exc)
    else:
        bad = [c for c in checks if not c.passed]
        reason = "; ".join(f"{c.name} {c.resource}: found {c.found}; {c.fix}" for c in bad)
    if reason:
        record_evidence(
            kind=f"{EVIDENCE_KIND}_run",
            asset=f"git/{asset.organisation}",
            dag_id=dag_id,
            run_id=run_id,
            outcome="fail",
            details={
                "failed_step": "check_dr_bucket",
                "checks": [c.as_dict() for c in checks],
                "reason": reason,
            },
        )
        raise GitBackupFailed(
            f"git bundles cannot go to s3://{asset.dr_bucket}: {reason}. "
            "Nothing was fetched or uploaded."
        )
    return key_arn


def plan_repositories(
    policy: BackupPolicy,
    logical_time: datetime,
    remote: GitRemote,
    github_client: Any | None,
    dr_kms_key_arn: str | None,
) -> dict[str, Any]:
    """The repositories to back up in bounded batches, and the mirrors no longer listed."""
    asset = policy.assets.github
    if asset is None:
        raise GitBackupFailed("the policy file has no assets.github section; nothing to back up")
    if asset.repositories is not None:
        repositories, source = pinned(asset, remote), "pinned in the policy file"
    else:
        repositories, source = discover(github_client, asset, remote), "listed through the API"
    listed = {repo.name for repo in repositories}
    cached = mirrors_dir() / asset.organisation
    vanished = sorted(
        path.name.removesuffix(".git")
        for path in (cached.glob("*.git") if cached.exists() else [])
        if path.name.removesuffix(".git") not in listed
    )
    day = run_window(policy.schedule.window, logical_time).day.isoformat()
    common = {
        "organisation": asset.organisation,
        "day": day,
        "dr_bucket": asset.dr_bucket,
        "dr_region": policy.regions.dr,
        "kms_key_arn": dr_kms_key_arn,
    }
    count = max(1, min(MAX_BATCHES, len(repositories)))
    batches = [
        {**common, "repositories": [repo.as_dict() for repo in repositories[index::count]]}
        for index in range(count)
    ]
    return {
        **common,
        "source": source,
        "listed": sorted(listed),
        "vanished": vanished,
        "batches": batches,
    }


def back_up_batch(
    batch: dict[str, Any],
    remote: GitRemote,
    key: bytes,
    dr_s3: Any | None,
    dag_id: str,
    run_id: str,
    try_number: int = 1,
    max_tries: int = 0,
) -> dict[str, Any]:
    """Back up each repository of the batch with a small thread pool.

    On a retry, repositories that an earlier try of this run backed up are taken from
    its evidence, not done again. Raises :class:`RepositoriesToRetry` while tries remain
    and any repository failed; the last try returns the failures for :func:`summarise`.
    """
    repositories = [Repository(**repo) for repo in batch["repositories"]]
    earlier = {
        repo.name: _earlier_pass(batch["organisation"], repo.name, dag_id, run_id)
        for repo in repositories
        if try_number > 1
    }
    todo = [repo for repo in repositories if earlier.get(repo.name) is None]
    with ThreadPoolExecutor(THREADS, thread_name_prefix="git-backup") as pool:
        outcomes = list(
            pool.map(
                lambda repo: back_up_repository(batch, repo, remote, key, dr_s3, dag_id, run_id),
                todo,
            )
        )
    outcomes += [done for done in earlier.values() if done is not None]
    result: dict[str, Any] = {
        "repositories": len(outcomes),
        "backed_up": sorted(o["name"] for o in outcomes if o["outcome"] == "pass"),
        "skipped": sorted(o["name"] for o in outcomes if o["outcome"] == "skipped"),
        "empty": sorted(o["name"] for o in outcomes if o["outcome"] == "empty"),
        "emptied": sorted(o["name"] for o in outcomes if o["outcome"] == "emptied"),
        "failed": [{"name": o["name"], "error": o["error"]} for o in outcomes if o["error"]],
        "bundles_made": sum(1 for o in outcomes if o.get("bundle_made")),
    }
    if result["failed"] and try_number <= max_tries:
        names = ", ".join(f["name"] for f in result["failed"])
        raise RepositoriesToRetry(
            f"not backed up on try {try_number} of {max_tries + 1}: {names}; "
            "the retry redoes only these"
        )
    return result


def _earlier_pass(organisation: str, name: str, dag_id: str, run_id: str) -> dict[str, Any] | None:
    """The outcome of this run's earlier try for a repository, if that try backed it up
    (or found it empty)."""
    found = evidence_store().get(EVIDENCE_KIND, asset_name(organisation, name), dag_id, run_id)
    if found is None or found.outcome != "pass":
        return None
    made = bool(found.details.get("bundle_made"))
    outcome = "empty" if found.details.get("verdict") == EMPTY else "pass"
    return {"name": name, "outcome": outcome, "error": None, "bundle_made": made}


def back_up_repository(
    batch: dict[str, Any],
    repo: Repository,
    remote: GitRemote,
    key: bytes,
    dr_s3: Any | None,
    dag_id: str,
    run_id: str,
) -> dict[str, Any]:
    """Mirror, check, bundle and (optionally) upload one repository; record its evidence.

    An empty repository has nothing to bundle; one emptied upstream keeps its mirror and
    bundles as they were and warns. Neither fails."""
    organisation, day = batch["organisation"], batch["day"]
    started = datetime.now(UTC)
    path = mirror_path(mirrors_dir(), organisation, repo.name)
    details: dict[str, Any] = {
        "repository": f"{organisation}/{repo.name}",
        "day": day,
        "url": repo.url,
    }
    try:
        if repo.optional and not path.exists():
            try:
                update = update_mirror(path, repo.url, remote)
            except Exception:  # noqa: BLE001 - an enabled wiki without pages has no repository
                return {"name": repo.name, "outcome": "skipped", "error": None}
        else:
            update = update_mirror(path, repo.url, remote)
        details |= {"mirror": update.action, "mirror_seconds": update.seconds}
        state = inspect_mirror(path, remote)
        details |= {"fsck": state.fsck, "lfs": state.lfs}
        kept = _kept_bundles(organisation, repo.name)
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
            bundle, made = write_bundle(path, target, key, f"{organisation}/{repo.name}", day)
            details |= {
                "verdict": BUNDLED,
                "refs": bundle.refs,
                "mirror_matches_bundle": _without_head(bundle.refs) == state.refs,
                "bundle": {k: v for k, v in asdict(bundle).items() if k != "refs"},
                "bundle_made": made,
            }
            if dr_s3 is not None and batch["dr_bucket"]:
                details["dr_copy"] = upload_bundle(dr_s3, batch, repo.name, target, bundle)
            outcome, error = "pass", None
    except Exception as exc:  # noqa: BLE001 - one repository never stops the others
        error = scrub(f"{type(exc).__name__}: {exc}", remote)
        kept = _kept_bundles(organisation, repo.name)
        details |= {
            "verdict": FAILED,
            "error": error,
            "kept": {"mirror": path.exists(), "bundles": kept},
        }
        error = f"{error} (its mirror and {len(kept)} bundle(s) are kept)"
        outcome = "fail"
    details["seconds"] = round((datetime.now(UTC) - started).total_seconds(), 3)
    record_evidence(
        kind=EVIDENCE_KIND,
        asset=asset_name(organisation, repo.name),
        dag_id=dag_id,
        run_id=run_id,
        outcome=EVIDENCE_OUTCOMES[outcome],
        details=details,
    )
    return {
        "name": repo.name,
        "outcome": outcome,
        "error": error,
        "bundle_made": details.get("bundle_made", False),
    }


def _kept_bundles(organisation: str, name: str) -> list[str]:
    """The sidecars of a repository's finished bundles in the local store."""
    return sorted(p.name for p in (bundles_dir() / organisation / name).glob("*.json"))


def upload_bundle(
    dr_s3: Any, batch: dict[str, Any], name: str, bundle: Path, record: BundleRecord
) -> dict[str, Any]:
    """Put the bundle and its sidecar in the DR bucket with SSE-KMS; an existing upload
    with the same digest is kept, one with another digest is never overwritten."""
    bucket, key_arn = batch["dr_bucket"], batch["kms_key_arn"]
    prefix = dr_prefix(batch["organisation"], name, batch["day"])
    object_key = f"{prefix}bundle.enc"
    try:
        head = dr_s3.head_object(Bucket=bucket, Key=object_key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in {"404", "NoSuchKey", "NotFound"}:
            raise
        head = None
    if head is not None:
        if head.get("Metadata", {}).get("sha256") != record.sha256:
            raise ValueError(
                f"s3://{bucket}/{object_key} already holds another bundle for {batch['day']}; "
                "it was not overwritten. Compare it with the local store before removing either."
            )
        return {
            "bucket": bucket,
            "key": object_key,
            "version_id": head.get("VersionId"),
            "uploaded": False,
        }
    encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn}
    dr_s3.upload_file(
        str(bundle),
        bucket,
        object_key,
        ExtraArgs={**encryption, "Metadata": {"sha256": record.sha256}},
    )
    tags = {OWNER_KEY: OWNER_VALUE, VERIFIED_KEY: "true", COMPLETED_KEY: record.completed_at}
    dr_s3.put_object(
        Bucket=bucket,
        Key=f"{prefix}bundle.json",
        Body=sidecar_path(bundle).read_bytes(),
        ContentType="application/json",
        Tagging=urllib.parse.urlencode(tags),
        **encryption,
    )
    head = dr_s3.head_object(Bucket=bucket, Key=object_key)
    if head["ContentLength"] != record.size or head.get("SSEKMSKeyId") != key_arn:
        raise ValueError(
            f"s3://{bucket}/{object_key}: {head['ContentLength']} bytes under key "
            f"{head.get('SSEKMSKeyId')}, expected {record.size} bytes under {key_arn}"
        )
    return {
        "bucket": bucket,
        "key": object_key,
        "version_id": head.get("VersionId"),
        "uploaded": True,
    }


def summarise(
    plan: dict[str, Any],
    results: list[dict[str, Any]],
    dag_id: str,
    run_id: str,
    alert: Callable[[str, str], None] | None = None,
) -> dict[str, Any]:
    """The organisation's evidence for the run; fails it, naming them, if any repository
    failed. Repositories no longer listed upstream are reported, never pruned; repositories
    emptied upstream warn and ``alert`` once, naming them."""
    failed = [f for result in results for f in result["failed"]]
    emptied = sorted(n for r in results for n in r.get("emptied", []))
    summary = {
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
        kind=f"{EVIDENCE_KIND}_run",
        asset=f"git/{plan['organisation']}",
        dag_id=dag_id,
        run_id=run_id,
        outcome=outcome,
        details=summary,
    )
    if emptied and alert is not None:
        organisation = plan["organisation"]
        alert(
            f"Git repositories emptied upstream: {organisation}",
            f"{dag_id} run {run_id}: {', '.join(emptied)} in {organisation} list no branch or "
            "tag upstream. Their mirrors and bundles are kept as they were and retention leaves "
            "them alone. If a repository was emptied on purpose, take it out of the policy or "
            "delete it upstream; if not, restore it from its newest bundle (restore_git DAG).",
        )
    if failed:
        names = "; ".join(f"{f['name']}: {f['error']}" for f in failed[:10])
        raise GitBackupFailed(f"{len(failed)} repositories were not backed up: {names}")
    return {k: v for k, v in summary.items() if k != "backed_up"} | {
        "backed_up": len(summary["backed_up"])
    }


def retention_targets(
    plan: dict[str, Any], backed_up: list[str], aws_conn_id: str
) -> list[dict[str, Any]]:
    """Retention for the repositories backed up this run (a repository that failed, left
    upstream, or is empty or emptied upstream keeps all its bundles): the local store, and
    the DR bucket where used."""
    organisation = plan["organisation"]
    targets = []
    for name in backed_up:
        targets.append(
            {
                "asset": f"{asset_name(organisation, name)}/local",
                "inventory": "git_bundles",
                "inventory_args": {
                    "bundles": str(bundles_dir()),
                    "organisation": organisation,
                    "repository": name,
                },
            }
        )
        if plan["dr_bucket"]:
            targets.append(
                {
                    "asset": f"{asset_name(organisation, name)}/dr",
                    "inventory": "git_dr_bundles",
                    "inventory_args": {
                        "organisation": organisation,
                        "repository": name,
                        "bucket": plan["dr_bucket"],
                        "aws_conn_id": aws_conn_id,
                        "region_name": plan["dr_region"],
                    },
                }
            )
    return targets


def _without_head(refs: dict[str, str]) -> dict[str, str]:
    return {ref: sha for ref, sha in refs.items() if ref != "HEAD"}
