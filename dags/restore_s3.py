"""
### Restore S3 objects as they were at a chosen time

Restores a backed-up bucket, or a prefix of it, as it was at **as of**, from the
DR bucket's object versions and the daily run manifests, into a target bucket
under a target prefix.

**How to use.** Trigger with the form. Leave **dry run** on first: the run picks
the backup (the newest run finished by *as of*; an empty *as of* means the
latest) and reports how many objects and bytes would be restored, with a sample
of keys, and changes nothing. Then trigger again with dry run off.

**Guards.**
- The first task checks the request again (a run's configuration can bypass
  the form); each refusal names the field and changes nothing: a bucket the
  policy does not back up, a time with no finished backup, a missing target
  bucket, an unsafe prefix, a DR bucket as the target.
- Restoring into a production bucket needs its name typed in **confirm
  production bucket**. The default target prefix, `restored/`, keeps a restore
  apart from live keys.
- Nothing at the target is deleted. An existing object is replaced only in a
  versioned bucket, where the old one stays as a noncurrent version; in an
  unversioned bucket it is left alone and listed in the evidence.

Objects deleted at the source before the backup are not restored; objects that
ransomware overwrote or deleted after it come back as they were. Before anything
is copied, every DR version the backup names is checked: if one was deleted
permanently, nothing is copied and the run fails without retrying, naming the
missing versions and the newest earlier backup that is whole. Copies are
server-side, with the target region's policy KMS key and a SHA-256 checksum
compared with the backup's where it recorded one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Param, dag, task

from include.dr.dag_defaults import DEFAULT_ARGS
from include.dr.policy.loader import load_policy
from include.dr.restores import RESTORE_CALLBACKS
from include.dr.task_boundary import at_boundary

POLICY = load_policy()
SOURCES = [asset.source for asset in POLICY.assets.s3]
PRODUCTION, DR = "aws_default", "aws_dr"


@dag(
    dag_id="restore_s3",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore", "s3", "manual"],
    params={
        "source_bucket": Param(
            SOURCES[0] if SOURCES else "",
            type="string",
            enum=SOURCES or [""],
            title="Backed-up bucket",
            description="The production bucket whose backup to restore.",
        ),
        "prefix": Param(
            None,
            type=["null", "string"],
            title="Prefix",
            description="Only keys under this prefix (e.g. invoices/2026/); empty for all.",
            maxLength=512,
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="As of",
            description="Restore the objects as they were at this time (UTC): the newest "
            "backup finished by then is used. Empty: the latest backup.",
        ),
        "target_bucket": Param(
            "",
            type="string",
            title="Target bucket",
            description="An existing bucket to restore into. A production bucket needs the "
            "confirmation below; a DR bucket is refused.",
            maxLength=63,
        ),
        "target_prefix": Param(
            "restored/",
            type=["null", "string"],
            title="Target prefix",
            description="Prepended to every restored key. Empty restores to the original keys.",
            maxLength=512,
        ),
        "confirm_production_bucket": Param(
            None,
            type=["null", "string"],
            title="Confirm restoring into a production bucket",
            description="Only when the target is a production bucket: type its name.",
        ),
        "dry_run": Param(
            True,
            type="boolean",
            title="Dry run",
            description="Report what would be restored (counts, bytes, a sample of keys); "
            "change nothing.",
        ),
    },
    **RESTORE_CALLBACKS,
)
def restore_s3() -> None:
    @task
    @at_boundary  # a refusal or a damaged backup fails at once (#15)
    def validate_request(**context: Any) -> dict[str, Any]:
        """Re-check the form server-side, find the backup; refuse by field before any write."""
        from include.dr.aws_clients import hook_clients
        from include.dr.checks import bucket_region
        from include.dr.restores import RestoreRefused, record_restore
        from include.dr.s3 import restore

        params, policy = dict(context["params"]), load_policy()
        try:
            request = restore.validate_request(params, policy, datetime.now(UTC))
            probe = hook_clients(PRODUCTION)("s3", policy.regions.production)
            request = restore.check_buckets(request, probe)
            region = bucket_region(probe, request["target_bucket"])
            dr_s3 = hook_clients(DR)("s3", policy.regions.dr)
            return {**restore.choose_backup(dr_s3, request), "target_region": region}
        except RestoreRefused as exc:
            asset = f"s3/{params.get('source_bucket')}"
            record_restore(context, asset, "fail", {"refused": exc.field, "reason": str(exc)})
            raise

    @task
    @at_boundary  # a refusal or a damaged backup fails at once (#15)
    def restore_objects(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Copy the chosen backup's versions to the target (count them only in a dry run)."""
        from dataclasses import asdict

        from include.dr.aws_clients import hook_clients
        from include.dr.restores import BackupDamaged, RestoreIncomplete, record_restore
        from include.dr.s3 import restore

        policy, region = load_policy(), plan["target_region"]
        target = hook_clients(PRODUCTION)
        encryption = restore.target_encryption(policy, region, target("kms", region))
        dr_s3 = hook_clients(DR)("s3", policy.regions.dr)
        try:
            result = restore.restore_objects(dr_s3, target("s3", region), plan, encryption)
        except BackupDamaged as exc:  # found before any copy; not retried
            details = {"step": "checked the backup's versions", **plan, "reason": str(exc)}
            record_restore(context, f"s3/{plan['source_bucket']}", "fail", details)
            raise
        details = {"step": "dry run" if plan["dry_run"] else "restored", **plan, **asdict(result)}
        outcome = "fail" if result.failures else "pass"
        record_restore(context, f"s3/{plan['source_bucket']}", outcome, details)
        if result.failures:
            raise RestoreIncomplete(
                f"{len(result.failures)} object(s) were not restored: "
                + "; ".join(f"{f['key']} ({f['error']})" for f in result.failures[:10])
            )
        return {k: v for k, v in details.items() if k not in {"sample", "kept_existing"}}

    restore_objects(validate_request())


restore_s3()
