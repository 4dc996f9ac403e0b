"""What the restore test restores: each asset's latest backup, and the scratch names for it.

Scratch resources are named from the run, so teardown removes exactly what this run
made and a kept-for-inspection run never collides with the next one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from include.dr.asset_names import git_organisation_asset, rds_asset, s3_asset
from include.dr.errors import Permanent
from include.dr.policy.model import BackupPolicy, RestoreTest
from include.dr.rds.naming import dump_key, manifest_key
from include.dr.rds.restore import dump_days, latest_snapshot
from include.dr.restore_test.plans import NativeRestoreRequest, RestoreTestPlan
from include.dr.s3.restore import finished_days

if TYPE_CHECKING:
    from types_boto3_rds import RDSClient
    from types_boto3_s3 import S3Client

    from include.dr.git.bundle_store import BundleStore


class NothingToTest(Permanent):
    """An asset has no backup yet, so it cannot be restored."""


class RestoreTestFailed(Permanent):
    """A check failed; the report says which and why."""


def scratch_token(run_id: str) -> str:
    return hashlib.sha256(run_id.encode()).hexdigest()[:10]


def native_restore_request(
    test: RestoreTestPlan, aws_conn_id: str, settings: RestoreTest
) -> NativeRestoreRequest:
    """The temporary instance's restore: the first RDS asset's latest DR snapshot into its
    scratch instance, placed and sized as the policy's ``restore_test`` says, or a dry run
    when no asset has one."""
    first = next((r for r in test["rds"] if r["snapshot_id"]), None)
    if first is None or first["snapshot_id"] is None:
        return {"dry_run": True}  # nothing to restore natively
    return {
        "source": "snapshot",
        "snapshot_id": first["snapshot_id"],
        "target_instance": first["scratch_instance"],
        "region": test["dr_region"],
        "aws_conn_id": aws_conn_id,
        "instance_class": settings.instance_class,
        "subnet_group": settings.network.subnet_group,
        "security_group_ids": list(settings.network.security_group_ids),
        "dry_run": False,
    }


def plan_test(
    policy: BackupPolicy,
    run_id: str,
    assets: list[str],
    keep_scratch: bool,
    dr_s3: S3Client,
    dr_rds: RDSClient,
    bundles: BundleStore,
    started: datetime,
) -> RestoreTestPlan:
    token = scratch_token(run_id)
    missing: list[str] = []
    plan: RestoreTestPlan = {
        "scratch_id": token,
        "started_at": started.isoformat(),
        "keep_scratch": keep_scratch,
        "dr_region": policy.regions.dr,
        "scratch_bucket": f"restore-test-{token}",
        "scratch_database": f"restore_test_{token}",
        "rds": [],
        "s3": [],
        "git": [],
    }
    for asset in policy.assets.rds if "rds" in assets else ():
        days = dump_days(dr_s3, asset.dr_bucket, asset.instance)
        snapshot = latest_snapshot(dr_rds, asset.instance)
        if not days:
            missing.append(
                f"{rds_asset(asset.instance)}: no logical dump in s3://{asset.dr_bucket}"
            )
            continue
        day = datetime.fromisoformat(days[-1]).date()
        plan["rds"].append(
            {
                "instance": asset.instance,
                "database": asset.database,
                "dr_bucket": asset.dr_bucket,
                "dump_date": day.isoformat(),
                "dump_key": dump_key(asset.instance, day, asset.database),
                "manifest_key": manifest_key(asset.instance, day),
                "snapshot_id": str(snapshot["DBSnapshotIdentifier"]) if snapshot else None,
                "scratch_instance": f"restore-test-{token}",
            }
        )
    for bucket in policy.assets.s3 if "s3" in assets else ():
        finished = finished_days(dr_s3, bucket.dr_bucket, bucket.source)
        if not finished:
            missing.append(
                f"{s3_asset(bucket.source)}: no finished backup in s3://{bucket.dr_bucket}"
            )
            continue
        plan["s3"].append(
            {
                "source_bucket": bucket.source,
                "dr_bucket": bucket.dr_bucket,
                "backup_day": finished[-1][0],
                "earlier_day": finished[0][0] if len(finished) > 1 else None,
            }
        )
    github = policy.assets.github
    if github and "git" in assets:
        for name in bundles.repositories(github.organisation):
            days = bundles.days(github.organisation, name)
            if days:
                plan["git"].append(
                    {"organisation": github.organisation, "repository": name, "day": days[-1]}
                )
        if not plan["git"]:
            missing.append(
                f"{git_organisation_asset(github.organisation)}: no bundle in the backup store"
            )
    if missing:
        raise NothingToTest("; ".join(missing) + ". Run the daily backups first.")
    return plan
