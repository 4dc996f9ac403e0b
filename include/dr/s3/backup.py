"""The steps of the daily S3 backup, one function each, called by the DAG's tasks.

Plans and partitions travel between tasks through XCom; object lists never do.
Every Airflow run gets its own manifest set in the DR bucket,
``.backup/manifests/<source>/<day>/<run>/``: one manifest per partition (key, size,
checksum, DR version, state), then the run's summary, ``run.json``, written last
and only if absent, which marks the run finished. A finished run's manifests are
never written again: a retried or cleared task of the same run reuses them, and a
second run on the same day writes a set of its own, so a restore "as of" a time
between the two still finds the first.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypedDict, cast

from botocore.exceptions import ClientError

from include.dr.asset_names import s3_asset
from include.dr.checks import check_bucket_region
from include.dr.environment import is_local_stack
from include.dr.errors import Permanent, Transient, error_code, is_not_found
from include.dr.evidence import record as record_evidence
from include.dr.kms import KeyUnavailable, resolve_key
from include.dr.policy.model import BackupPolicy
from include.dr.run_info import RunInfo
from include.dr.s3.copying import multipart_threshold
from include.dr.s3.engine import (
    DEFAULT_THREADS,
    CopyTarget,
    back_up_partition,
    kms_encryption,
)
from include.dr.s3.guardrails import check_dr_bucket, fix_dr_bucket
from include.dr.s3.layout import manifest_prefix, run_key, summary_key
from include.dr.s3.listing import folders
from include.dr.s3.partitions import Partition, split
from include.dr.s3.plans import (
    BucketPlan,
    BucketSummary,
    CheckedBucket,
    PartitionOutcome,
    PartitionPlan,
    RetentionTarget,
)
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY
from include.dr.window import run_window

if TYPE_CHECKING:
    from types_boto3_kms import KMSClient
    from types_boto3_s3 import S3Client

__all__ = [  # the layout's names, still read from here
    "manifest_prefix",
    "run_key",
    "summary_key",
]

EVIDENCE_KIND = "s3_backup"
MAX_PARTITIONS = 8
CONDITION_FAILED = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict"})


def tuning(name: str, default: int) -> int:
    """A ``BACKUP_S3_*`` tuning setting, read when the task runs: a worker imports this
    module once, and a changed deployment setting must take effect on the next run."""
    return int(os.environ.get(f"BACKUP_S3_{name}", str(default)))


class S3BackupFailed(Permanent):
    """The bucket cannot be backed up safely (a guardrail, a missing or disabled DR key),
    or some objects failed after their retries; the message names what and the fix."""


class BackupClients(TypedDict):
    """The clients a backup step needs: the source bucket's, and the DR bucket's and key's."""

    source_s3: S3Client
    dr_s3: S3Client
    dr_kms: KMSClient


def plan_buckets(policy: BackupPolicy, logical_time: datetime, run_id: str) -> list[BucketPlan]:
    day = run_window(policy.schedule.window, logical_time).day.isoformat()
    run = run_key(logical_time, run_id)
    return [
        BucketPlan(
            source=asset.source,
            dr_bucket=asset.dr_bucket,
            scopes=list(asset.prefixes) or [""],
            fix_settings=asset.fix_settings,
            day=day,
            run=run,
            production_region=policy.regions.production,
            dr_region=policy.regions.dr,
            dr_kms_key=policy.kms_key(policy.regions.dr),
        )
        for asset in policy.assets.s3
    ]


def check_buckets(
    plan: BucketPlan, policy: BackupPolicy, clients: BackupClients, run: RunInfo
) -> CheckedBucket:
    """The source exists in production; the DR bucket passes every guardrail (fixed only
    with ``fix_settings``). A failure is recorded and stops the run before any copy."""
    source_s3, dr_s3, kms = clients["source_s3"], clients["dr_s3"], clients["dr_kms"]
    local = is_local_stack(dr_s3)
    checks = [check_bucket_region(source_s3, plan["source"], plan["production_region"], "source")]
    try:
        key_arn = resolve_key(kms, plan["dr_kms_key"], plan["dr_region"])
    except KeyUnavailable as exc:  # missing or disabled: no retry can mend it
        _fail(dict(plan), run, "check_buckets", [], str(exc))
    minimum = policy.retention.minimum_days
    guardrails = check_dr_bucket(
        dr_s3, kms, plan["dr_bucket"], plan["dr_region"], key_arn, minimum, local
    )
    failed = {c.name for c in guardrails if c.failed}
    fixed: list[str] = []
    if failed and plan["fix_settings"] and "dr_bucket" not in failed:
        fixed = fix_dr_bucket(dr_s3, plan["dr_bucket"], key_arn, minimum, failed, local)
        guardrails = check_dr_bucket(
            dr_s3, kms, plan["dr_bucket"], plan["dr_region"], key_arn, minimum, local
        )
    checks += guardrails
    result = CheckedBucket(
        **plan, kms_key_arn=key_arn, checks=[c.as_dict() for c in checks], fixed=fixed
    )
    bad = [c for c in checks if c.failed]
    if bad:
        _fail(
            {k: v for k, v in result.items() if k != "fixed"},
            run,
            "check_buckets",
            [c.as_dict() for c in checks],
            "; ".join(f"{c.name} {c.resource}: found {c.found}; {c.fix}" for c in bad)
            + ". Nothing was copied.",
        )
    return result


def plan_partitions(plans: list[CheckedBucket], clients: BackupClients) -> list[PartitionPlan]:
    """A bounded list of partitions per bucket: the mapped copy tasks' arguments."""
    parts: list[PartitionPlan] = []
    for plan in plans:
        budget = max(1, tuning("PARTITIONS", MAX_PARTITIONS) // len(plan["scopes"]))
        for scope in plan["scopes"]:
            found = folders(clients["source_s3"], plan["source"], scope) | folders(
                clients["dr_s3"], plan["dr_bucket"], scope
            )
            for partition in split(scope, found, budget):
                index = len([p for p in parts if p["source"] == plan["source"]])
                folder = manifest_prefix(plan["source"], plan["day"], plan["run"])
                parts.append(
                    PartitionPlan(
                        source=plan["source"],
                        dr_bucket=plan["dr_bucket"],
                        kms_key_arn=plan["kms_key_arn"],
                        partition={
                            "scope": partition.scope,
                            "folders": list(partition.folders),
                            "root": partition.root,
                        },
                        manifest_key=f"{folder}part-{index:03d}.jsonl.gz",
                        summary_key=summary_key(plan["source"], plan["day"], plan["run"]),
                    )
                )
    return parts


def copy_partition(
    part: PartitionPlan, clients: BackupClients, tries_remain: bool = False
) -> PartitionOutcome:
    """Back up one partition; failures are returned (and fail the run at the record step),
    except that, while the task has tries left, objects that failed only for reasons a
    later try may mend (throttling, a server error, the network) raise :class:`Transient`:
    the retry copies what is still missing. In a run already finished (a cleared task),
    its stored result is returned and nothing is copied or written."""
    stored = finished_summary(clients["dr_s3"], part["dr_bucket"], part["summary_key"])
    if stored is not None:
        done = [p for p in stored.get("parts", []) if p["manifest_key"] == part["manifest_key"]]
        if done:
            return cast(PartitionOutcome, {"source": part["source"], **done[0], "reused": True})
    target = CopyTarget(
        part["source"],
        part["dr_bucket"],
        part["kms_key_arn"],
        tuning("COPY_THREADS", DEFAULT_THREADS),
        multipart_threshold(),
    )
    partition = Partition(
        part["partition"]["scope"],
        tuple(part["partition"]["folders"]),
        part["partition"]["root"],
    )
    result = back_up_partition(
        clients["source_s3"], clients["dr_s3"], target, partition, part["manifest_key"]
    )
    if tries_remain and result.only_transient_failures:
        named = "; ".join(f"{f['key']} ({f['error']})" for f in result.failures[:10])
        raise Transient(
            f"s3://{part['source']}: {len(result.failures)} object(s) not backed up yet, each "
            f"for a reason a later try may mend: {named}. The retry copies what is missing."
        )
    return cast(PartitionOutcome, {"source": part["source"], **result.as_dict()})


SUMMARY_FIELDS = tuple(BucketSummary.__annotations__)  # what the record task returns


def _totals(parts: list[PartitionOutcome]) -> dict[str, int]:
    """The partitions' counts added up."""
    return {
        "listed": sum(p["listed"] for p in parts),
        "copied": sum(p["copied"] for p in parts),
        "unchanged": sum(p["unchanged"] for p in parts),
        "deleted_at_source": sum(p["deleted_at_source"] for p in parts),
        "archived_at_source": sum(p.get("archived_at_source", 0) for p in parts),
        "bytes_copied": sum(p["bytes_copied"] for p in parts),
        "bytes_listed": sum(p.get("bytes_listed", 0) for p in parts),
    }


def record_buckets(
    plans: list[CheckedBucket],
    results: list[PartitionOutcome],
    dr_s3: S3Client,
    run: RunInfo,
) -> list[BucketSummary]:
    """One evidence record per bucket; the run's summary marks the day's manifests complete.
    Fails the run, after recording, when any object failed."""
    by_source: dict[str, list[PartitionOutcome]] = defaultdict(list)
    for result in results:
        by_source[result["source"]].append(result)
    summaries: list[BucketSummary] = []
    failures: list[str] = []
    for plan in plans:
        parts = by_source[plan["source"]]
        summary: dict[str, Any] = {
            "source": plan["source"],
            "dr_bucket": plan["dr_bucket"],
            "day": plan["day"],
            "run": plan["run"],
            "summary_key": summary_key(plan["source"], plan["day"], plan["run"]),
            "partitions": len(parts),
            **_totals(parts),
            "failures": [f for p in parts for f in p["failures"]],
            "archived_keys": [k for p in parts for k in p.get("archived_keys", [])][:20],
            "seconds": max((p["seconds"] for p in parts), default=0.0),
            "manifests": sorted(p["manifest_key"] for p in parts),
            "parts": [
                {k: v for k, v in p.items() if k not in {"source", "reused"}}
                for p in sorted(parts, key=lambda p: str(p["manifest_key"]))
            ],
            "guardrails": plan["checks"],
            "fixed": plan["fixed"],
        }
        ok = not summary["failures"]
        if ok:
            summary = _store_summary(dr_s3, plan, summary)
        record_evidence(
            kind=EVIDENCE_KIND,
            asset=s3_asset(plan["source"]),
            dag_id=run.dag_id,
            run_id=run.run_id,
            outcome="pass" if ok else "fail",
            details=summary,
        )
        failures += [
            f"s3://{plan['source']}/{f['key']} ({f['error']})" for f in summary["failures"]
        ]
        summaries.append(cast(BucketSummary, {k: summary[k] for k in SUMMARY_FIELDS}))
    if failures:
        raise S3BackupFailed(
            f"{len(failures)} object(s) were not backed up: {'; '.join(failures[:10])}"
        )
    return summaries


def retention_targets(plans: list[CheckedBucket], aws_conn_id: str) -> list[RetentionTarget]:
    return [
        RetentionTarget(
            asset=f"{s3_asset(plan['source'])}/manifests",
            inventory="s3_manifests",
            inventory_args={
                "source": plan["source"],
                "bucket": plan["dr_bucket"],
                "aws_conn_id": aws_conn_id,
                "region_name": plan["dr_region"],
            },
        )
        for plan in plans
    ]


def finished_summary(dr_s3: S3Client, dr_bucket: str, key: str) -> dict[str, Any] | None:
    """A finished run's stored summary, or None while the run has not finished."""
    try:
        body = dr_s3.get_object(Bucket=dr_bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    found: dict[str, Any] = json.loads(body)
    return found


def _store_summary(dr_s3: S3Client, plan: CheckedBucket, summary: dict[str, Any]) -> dict[str, Any]:
    """Write ``run.json`` only if the run has none: look first, then write conditionally
    (If-None-Match), so a finished run's summary is never replaced. Returns the summary
    that stands: the stored one when a retried task finds its run already finished."""
    key = str(summary["summary_key"])
    stored = finished_summary(dr_s3, plan["dr_bucket"], key)
    if stored is not None:
        return {**summary, **stored}
    tags = {
        OWNER_KEY: OWNER_VALUE,
        VERIFIED_KEY: "true",
        COMPLETED_KEY: datetime.now(UTC).isoformat(),
    }
    try:
        dr_s3.put_object(
            Bucket=plan["dr_bucket"],
            Key=key,
            Body=json.dumps(summary, indent=2, default=str).encode(),
            ContentType="application/json",
            **kms_encryption(plan["kms_key_arn"]),
            Tagging=urllib.parse.urlencode(tags),
            IfNoneMatch="*",
        )
    except ClientError as exc:
        if error_code(exc) not in CONDITION_FAILED:
            raise
        stored = finished_summary(dr_s3, plan["dr_bucket"], key)
        return {**summary, **(stored or {})}
    return summary


def _fail(
    plan: dict[str, Any],
    run: RunInfo,
    step: str,
    checks: list[dict[str, Any]],
    reason: str,
) -> NoReturn:
    record_evidence(
        kind=EVIDENCE_KIND,
        asset=s3_asset(plan["source"]),
        dag_id=run.dag_id,
        run_id=run.run_id,
        outcome="fail",
        details={**plan, "failed_step": step, "checks": checks, "reason": reason},
    )
    raise S3BackupFailed(f"s3://{plan['source']} not backed up: {reason}")
