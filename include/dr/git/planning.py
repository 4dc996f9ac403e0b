"""Which repositories a git backup run covers, in how many batches, and what retention
then looks at.

The repositories are the policy's pinned list, or the organisation's listing
through the GitHub API; they are dealt into at most :data:`MAX_BATCHES` batches,
one mapped task each. Mirrors of repositories no longer listed are reported,
never pruned. Retention covers only the repositories backed up this run: one
that failed, left upstream, or is empty or emptied upstream keeps every bundle.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from include.dr.asset_names import git_asset
from include.dr.errors import Permanent
from include.dr.git.discovery import discover, pinned
from include.dr.git.plans import BackupPlan, Batch, BatchCommon, RetentionTarget
from include.dr.git.remote import GitRemote
from include.dr.policy.model import BackupPolicy
from include.dr.window import run_window

MAX_BATCHES = 4


class NothingToBackUp(Permanent):
    """The policy file names no GitHub organisation."""


def plan_repositories(
    policy: BackupPolicy,
    logical_time: datetime,
    remote: GitRemote,
    github_client: Any | None,
    dr_kms_key_arn: str | None,
    recorded: list[str],
) -> BackupPlan:
    """The repositories to back up in bounded batches, and those no longer listed: the
    ``recorded`` ones (with bundles of record in the DR bucket) upstream lists no more.
    Read from the DR bucket, not from a worker's mirrors, which another worker lacks."""
    asset = policy.assets.github
    if asset is None:
        raise NothingToBackUp(
            "the policy file has no assets.github section; nothing to back up. Add one, or "
            "pause the git_backup DAG."
        )
    if asset.repositories is not None:
        repositories, source = pinned(asset, remote), "pinned in the policy file"
    else:
        repositories, source = discover(github_client, asset, remote), "listed through the API"
    listed = {repo.name for repo in repositories}
    vanished = sorted(name for name in recorded if name not in listed)
    common: BatchCommon = {
        "organisation": asset.organisation,
        "day": run_window(policy.schedule.window, logical_time).day.isoformat(),
        "dr_bucket": asset.dr_bucket,
        "dr_region": policy.regions.dr,
        "kms_key_arn": dr_kms_key_arn,
    }
    count = max(1, min(MAX_BATCHES, len(repositories)))
    batches: list[Batch] = [
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


def retention_targets(
    plan: BatchCommon, backed_up: list[str], aws_conn_id: str
) -> list[RetentionTarget]:
    """Retention for the repositories backed up this run (a repository that failed, left
    upstream, or is empty or emptied upstream keeps all its bundles) in the DR bucket, where
    the bundles of record are. A worker's cache is not retention's business: the backup
    prunes it (:meth:`include.dr.git.bundle_store.BundleStore.prune_cache`), and a path on
    one worker means nothing to the worker that runs retention."""
    organisation = plan["organisation"]
    targets: list[RetentionTarget] = []
    for name in backed_up:
        if plan["dr_bucket"]:
            targets.append(
                {
                    "asset": f"{git_asset(organisation, name)}/dr",
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
