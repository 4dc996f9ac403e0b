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

import hashlib
import json
import os
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any, NoReturn

from airflow.sdk.exceptions import AirflowFailException
from botocore.exceptions import ClientError

from include.dr.checks import check_bucket_region, error_code
from include.dr.evidence import record as record_evidence
from include.dr.kms import KeyUnavailable, resolve_key
from include.dr.policy.model import BackupPolicy
from include.dr.s3.engine import DEFAULT_THREADS, MULTIPART_THRESHOLD, CopyTarget, back_up_partition
from include.dr.s3.guardrails import check_dr_bucket, fix_dr_bucket
from include.dr.s3.listing import folders
from include.dr.s3.partitions import Partition, split
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY
from include.dr.window import run_window

EVIDENCE_KIND = "s3_backup"
MAX_PARTITIONS = 8


def tuning(name: str, default: int) -> int:
    """A ``BACKUP_S3_*`` tuning setting, read when the task runs: a worker imports this
    module once, and a changed deployment setting must take effect on the next run."""
    return int(os.environ.get(f"BACKUP_S3_{name}", str(default)))


class S3BackupFailed(AirflowFailException):
    """The bucket cannot be backed up safely, or some objects failed; nothing is retried."""


def asset_name(source: str) -> str:
    return f"s3/{source}"


def manifest_prefix(source: str, day: str, run: str = "") -> str:
    """A run's manifest folder (``run`` empty: the day's folder, the layout before runs had
    folders of their own, still read by restores)."""
    return f".backup/manifests/{source}/{day}/" + (f"{run}/" if run else "")


def summary_key(source: str, day: str, run: str = "") -> str:
    return f"{manifest_prefix(source, day, run)}run.json"


def run_key(logical_time: datetime, run_id: str) -> str:
    """The run's folder name: its logical time (so a day's runs sort by it) and a digest of
    the Airflow run id. A retry or cleared task of one run gets the same name; another
    run on the same day, another."""
    moment = logical_time.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{moment}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


def plan_buckets(policy: BackupPolicy, logical_time: datetime, run_id: str) -> list[dict[str, Any]]:
    day = run_window(policy.schedule.window, logical_time).day.isoformat()
    run = run_key(logical_time, run_id)
    return [
        {
            "source": asset.source,
            "dr_bucket": asset.dr_bucket,
            "scopes": list(asset.prefixes) or [""],
            "fix_settings": asset.fix_settings,
            "day": day,
            "run": run,
            "production_region": policy.regions.production,
            "dr_region": policy.regions.dr,
            "dr_kms_key": policy.kms_key(policy.regions.dr),
        }
        for asset in policy.assets.s3
    ]


def check_buckets(
    plan: dict[str, Any], policy: BackupPolicy, clients: dict[str, Any], dag_id: str, run_id: str
) -> dict[str, Any]:
    """The source exists in production; the DR bucket passes every guardrail (fixed only
    with ``fix_settings``). A failure is recorded and stops the run before any copy."""
    source_s3, dr_s3, kms = clients["source_s3"], clients["dr_s3"], clients["dr_kms"]
    local = dr_s3.meta.endpoint_url.startswith("http://")
    checks = [check_bucket_region(source_s3, plan["source"], plan["production_region"], "source")]
    try:
        key_arn = resolve_key(kms, plan["dr_kms_key"], plan["dr_region"])
    except KeyUnavailable as exc:
        _fail(plan, dag_id, run_id, "check_buckets", [], str(exc))
    minimum = policy.retention.minimum_days
    guardrails = check_dr_bucket(
        dr_s3, kms, plan["dr_bucket"], plan["dr_region"], key_arn, minimum, local
    )
    failed = {c.name for c in guardrails if not c.passed}
    fixed: list[str] = []
    if failed and plan["fix_settings"] and "dr_bucket" not in failed:
        fixed = fix_dr_bucket(dr_s3, plan["dr_bucket"], key_arn, minimum, failed, local)
        guardrails = check_dr_bucket(
            dr_s3, kms, plan["dr_bucket"], plan["dr_region"], key_arn, minimum, local
        )
    checks += guardrails
    result = {**plan, "kms_key_arn": key_arn, "checks": [c.as_dict() for c in checks]}
    bad = [c for c in checks if not c.passed]
    if bad:
        _fail(
            result,
            dag_id,
            run_id,
            "check_buckets",
            [c.as_dict() for c in checks],
            "; ".join(f"{c.name} {c.resource}: found {c.found}; {c.fix}" for c in bad)
            + ". Nothing was copied.",
        )
    return {**result, "fixed": fixed}


def plan_partitions(plans: list[dict[str, Any]], clients: dict[str, Any]) -> list[dict[str, Any]]:
    """A bounded list of partitions per bucket: the mapped copy tasks' arguments."""
    parts: list[dict[str, Any]] = []
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
                    {
                        "source": plan["source"],
                        "dr_bucket": plan["dr_bucket"],
                        "kms_key_arn": plan["kms_key_arn"],
                        "partition": partition.as_dict(),
                        "manifest_key": f"{folder}part-{index:03d}.jsonl.gz",
                        "summary_key": f"{folder}run.json",
                    }
                )
    return parts


def copy_partition(part: dict[str, Any], clients: dict[str, Any]) -> dict[str, Any]:
    """Back up one partition; failures are returned (and fail the run at the record step).
    In a run already finished (a cleared task), its stored result is returned and
    nothing is copied or written."""
    stored = finished_summary(clients["dr_s3"], part["dr_bucket"], part["summary_key"])
    if stored is not None:
        done = [p for p in stored.get("parts", []) if p["manifest_key"] == part["manifest_key"]]
        if done:
            return {"source": part["source"], **done[0], "reused": True}
    target = CopyTarget(
        part["source"],
        part["dr_bucket"],
        part["kms_key_arn"],
        tuning("COPY_THREADS", DEFAULT_THREADS),
        tuning("MULTIPART_THRESHOLD", MULTIPART_THRESHOLD),
    )
    partition = Partition(
        part["partition"]["scope"],
        tuple(part["partition"]["folders"]),
        part["partition"]["root"],
    )
    result = back_up_partition(
        clients["source_s3"], clients["dr_s3"], target, partition, part["manifest_key"]
    )
    return {"source": part["source"], **result.as_dict()}


def record_buckets(
    plans: list[dict[str, Any]], results: list[dict[str, Any]], dr_s3: Any, dag_id: str, run_id: str
) -> list[dict[str, Any]]:
    """One evidence record per bucket; the run's summary marks the day's manifests complete.
    Fails the run, after recording, when any object failed."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for result in results:
        by_source[result["source"]].append(result)
    summaries, failures = [], []
    for plan in plans:
        parts = by_source[plan["source"]]
        summary = {
            "source": plan["source"],
            "dr_bucket": plan["dr_bucket"],
            "day": plan["day"],
            "run": plan["run"],
            "summary_key": summary_key(plan["source"], plan["day"], plan["run"]),
            "partitions": len(parts),
            **{
                name: sum(p[name] for p in parts)
                for name in ("listed", "copied", "unchanged", "deleted_at_source", "bytes_copied")
            },
            "failures": [f for p in parts for f in p["failures"]],
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
            asset=asset_name(plan["source"]),
            dag_id=dag_id,
            run_id=run_id,
            outcome="pass" if ok else "fail",
            details=summary,
        )
        failures += [
            f"s3://{plan['source']}/{f['key']} ({f['error']})" for f in summary["failures"]
        ]
        summaries.append(
            {k: v for k, v in summary.items() if k not in {"guardrails", "manifests", "parts"}}
        )
    if failures:
        raise S3BackupFailed(
            f"{len(failures)} object(s) were not backed up: {'; '.join(failures[:10])}"
        )
    return summaries


def retention_targets(plans: list[dict[str, Any]], aws_conn_id: str) -> list[dict[str, Any]]:
    return [
        {
            "asset": f"{asset_name(plan['source'])}/manifests",
            "inventory": "s3_manifests",
            "inventory_args": {
                "source": plan["source"],
                "bucket": plan["dr_bucket"],
                "aws_conn_id": aws_conn_id,
                "region_name": plan["dr_region"],
            },
        }
        for plan in plans
    ]


def finished_summary(dr_s3: Any, dr_bucket: str, key: str) -> dict[str, Any] | None:
    """A finished run's stored summary, or None while the run has not finished."""
    try:
        body = dr_s3.get_object(Bucket=dr_bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in {"404", "NoSuchKey", "NotFound"}:
            return None
        raise
    found: dict[str, Any] = json.loads(body)
    return found


def _store_summary(dr_s3: Any, plan: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
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
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=plan["kms_key_arn"],
            Tagging=urllib.parse.urlencode(tags),
            IfNoneMatch="*",
        )
    except ClientError as exc:
        if error_code(exc) not in {"PreconditionFailed", "412", "ConditionalRequestConflict"}:
            raise
        stored = finished_summary(dr_s3, plan["dr_bucket"], key)
        return {**summary, **(stored or {})}
    return summary


def _fail(
    plan: dict[str, Any],
    dag_id: str,
    run_id: str,
    step: str,
    checks: list[dict[str, Any]],
    reason: str,
) -> NoReturn:
    record_evidence(
        kind=EVIDENCE_KIND,
        asset=asset_name(plan["source"]),
        dag_id=dag_id,
        run_id=run_id,
        outcome="fail",
        details={**plan, "failed_step": step, "checks": checks, "reason": reason},
    )
    raise S3BackupFailed(f"s3://{plan['source']} not backed up: {reason}")
