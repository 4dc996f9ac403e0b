"""The steps of the daily RDS backup, one function each, called by the DAG's tasks.

Each step takes the instance's *plan* (:class:`~include.dr.rds.plans.InstancePlan`,
small, through XCom), does one thing, and returns the plan with its own facts
added. Each is idempotent for the run's day: it finds and reuses what an earlier
try made rather than making a second one. A step that finds the backup cannot be
made or trusted raises :class:`RdsBackupFailed` (permanent: not retried); a missing
or disabled DR key is :class:`~include.dr.kms.KeyUnavailable`, permanent too.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from include.dr.asset_names import rds_asset
from include.dr.checks import Check
from include.dr.connections import MYSQL_PRODUCTION
from include.dr.errors import Permanent, is_not_found
from include.dr.evidence import record as record_evidence
from include.dr.kms import resolve_key
from include.dr.policy.model import BackupPolicy
from include.dr.preflight import check_rds_instance, fix_rds_drift
from include.dr.rds.consistent_dump import dump_at_one_moment
from include.dr.rds.dump import DumpResult
from include.dr.rds.manifest import manifest_bytes, take_manifest
from include.dr.rds.moment import rows_changed_between, write_counters
from include.dr.rds.naming import dump_key, manifest_key, snapshot_id, snapshot_manifest_key
from include.dr.rds.plans import (
    BackupSummary,
    DumpFacts,
    InstancePlan,
    ManifestFacts,
    RetentionTarget,
)
from include.dr.rds.restored_copy import RestoredCopy
from include.dr.rds.snapshots import describe_snapshot
from include.dr.run_info import RunInfo
from include.dr.tags import COMPLETED_KEY, VERIFIED_KEY, as_mapping, is_ours, owner_tags
from include.dr.window import run_window

if TYPE_CHECKING:
    from types_boto3_kms import KMSClient
    from types_boto3_rds import RDSClient
    from types_boto3_s3 import S3Client

EVIDENCE_KIND = "rds_backup"
DRIFT_CHECKS = {"rds_backup_retention", "rds_backup_window"}


class RdsBackupFailed(Permanent):
    """A step found the backup cannot be made or trusted; the message says what to do.

    Retrying cannot help (the instance is missing, a key is wrong, a copy is not what
    it should be), so the task fails at once rather than retrying."""


def plan_backups(policy: BackupPolicy, logical_time: datetime) -> list[InstancePlan]:
    """One plan per RDS instance in the policy, named from the run's window day."""
    day = run_window(policy.schedule.window, logical_time).day
    return [
        {
            "instance": asset.instance,
            "database": asset.database,
            "dr_bucket": asset.dr_bucket,
            "fix_drift": asset.fix_drift,
            "read_from": asset.read_replica or MYSQL_PRODUCTION,
            "checksums_on": asset.checksums_on,
            "day": day.isoformat(),
            "snapshot_id": snapshot_id(asset.instance, day),
            "manifest_key": manifest_key(asset.instance, day),
            "snapshot_manifest_key": snapshot_manifest_key(asset.instance, day),
            "dump_key": dump_key(asset.instance, day, asset.database),
            "production_region": policy.regions.production,
            "dr_region": policy.regions.dr,
            "dr_kms_key": policy.kms_key(policy.regions.dr),
        }
        for asset in policy.assets.rds
    ]


def preflight(
    plan: InstancePlan, policy: BackupPolicy, rds: RDSClient, run: RunInfo
) -> InstancePlan:
    """Check the instance; fix drift only where the policy allows it; fail on the rest,
    after recording every check (passed and failed) as the run's evidence."""
    window, minimum = policy.schedule.window, policy.retention.minimum_days
    year = datetime.fromisoformat(plan["day"]).year
    asset = next((a for a in policy.assets.rds if a.instance == plan["instance"]), None)
    replicated_to = plan["dr_region"] if asset and asset.pitr_in_dr_region else None
    checks = check_rds_instance(rds, plan["instance"], minimum, window, year, replicated_to)
    fixed: dict[str, Any] = {}
    drifted = {c.name for c in checks if not c.passed} & DRIFT_CHECKS
    if drifted and plan["fix_drift"]:
        try:
            fixed = fix_rds_drift(rds, plan["instance"], minimum, window, year)
        except ValueError as exc:  # no RDS window fits the policy's all year
            raise RdsBackupFailed(f"fixing drift on {plan['instance']}: {exc}") from exc
        checks = [c for c in checks if c.name not in drifted] + [
            Check(c.name, c.resource, True, c.expected, f"fixed: {fixed}")
            for c in checks
            if c.name in drifted
        ]
    failed = [c for c in checks if not c.passed]
    result: InstancePlan = {
        **plan,
        "preflight": [c.as_dict() for c in checks],
        "drift_fixed": fixed,
    }
    if failed:
        record_evidence(
            kind=EVIDENCE_KIND,
            asset=rds_asset(plan["instance"]),
            dag_id=run.dag_id,
            run_id=run.run_id,
            outcome="fail",
            details={**result, "failed_step": "preflight"},
        )
        raise RdsBackupFailed(
            f"preflight of RDS instance {plan['instance']} failed: "
            + "; ".join(f"{c.name}: found {c.found}; {c.fix}" for c in failed)
        )
    return result


def store_manifest(
    plan: InstancePlan, connection: Any, s3: S3Client, kms: KMSClient
) -> InstancePlan:
    """Describe the live database just before the RDS snapshot (the snapshot's manifest,
    with the server's write counters) and store it, encrypted, in the DR bucket."""
    bucket, key = plan["dr_bucket"], plan["snapshot_manifest_key"]
    existing = _head(s3, bucket, key)
    if existing is not None:
        manifest = _read_json(s3, bucket, key)
        version = existing.get("VersionId")
    else:
        manifest = {"counters": write_counters(connection.cursor()), "read_from": plan["read_from"]}
        checksums = plan.get("checksums_on", "database") == "database"
        manifest |= take_manifest(connection, plan["database"], checksums=checksums)
        manifest |= {"instance": plan["instance"]}
        version = _put_manifest(plan, s3, kms, key, manifest)
    return {**plan, "snapshot_manifest": manifest_facts(key, version, manifest)}


def manifest_facts(key: str, version: str | None, manifest: Mapping[str, Any]) -> ManifestFacts:
    tables = manifest["tables"]
    return {
        "key": key,
        "version_id": version,
        "taken_at": manifest["taken_at"],
        "tables": len(tables),
        "rows": sum(t["row_count"] for t in tables.values()),
        "binlog": (manifest.get("moment") or {}).get("binlog"),
        "counters": dict(manifest.get("counters") or {}),
    }


def _put_manifest(
    plan: InstancePlan, s3: S3Client, kms: KMSClient, key: str, manifest: Mapping[str, Any]
) -> str | None:
    return s3.put_object(
        Bucket=plan["dr_bucket"],
        Key=key,
        Body=manifest_bytes(dict(manifest)),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=resolve_key(kms, plan["dr_kms_key"], plan["dr_region"]),
        BucketKeyEnabled=True,
        Tagging=_tagging(plan, verified=True),
    ).get("VersionId")


def verify_copy(plan: InstancePlan, rds_dr: RDSClient, kms_dr: KMSClient) -> InstancePlan:
    """The DR copy is available, in the DR region, encrypted with the DR key, and ours;
    then it is tagged verified, with its completion time (the adapter tags the source)."""
    copy = describe_snapshot(rds_dr, plan["snapshot_id"])
    expected_key = resolve_key(kms_dr, plan["dr_kms_key"], plan["dr_region"])
    problems = []
    if copy is None:
        problems.append("the copy does not exist")
    else:
        tags = as_mapping(
            rds_dr.list_tags_for_resource(ResourceName=copy["DBSnapshotArn"])["TagList"]
        )
        if copy.get("Status") != "available":
            problems.append(f"status is {copy.get('Status')}")
        if not copy.get("Encrypted"):
            problems.append("it is not encrypted")
        if copy.get("KmsKeyId") != expected_key:
            problems.append(f"it is encrypted with {copy.get('KmsKeyId')}, not {expected_key}")
        if f":{plan['dr_region']}:" not in copy["DBSnapshotArn"]:
            problems.append(f"it is not in {plan['dr_region']}")
        if not is_ours(tags):
            problems.append("it lacks the owner tag")
    if problems:
        raise RdsBackupFailed(
            f"DR copy {plan['snapshot_id']} failed verification: {'; '.join(problems)}. "
            "It is not tagged verified, so retention keeps the older verified copies."
        )
    completed = datetime.now(UTC).isoformat()
    mark_verified(rds_dr, plan["copy"]["arn"], completed)
    return {**plan, "copy_verified_at": completed}


def mark_verified(rds: RDSClient, snapshot_arn: str, completed: str) -> None:
    """Tag a snapshot verified, with the completion time retention measures age from."""
    rds.add_tags_to_resource(
        ResourceName=snapshot_arn,
        Tags=[{"Key": VERIFIED_KEY, "Value": "true"}, {"Key": COMPLETED_KEY, "Value": completed}],
    )


def store_dump(
    plan: InstancePlan,
    connection: Mapping[str, Any],
    connect: Callable[[], Any],
    s3: S3Client,
    kms: KMSClient,
    restore_server: tuple[Mapping[str, Any], Callable[[], Any]] | None = None,
) -> InstancePlan:
    """Stream the logical dump and the manifest of its moment into the DR bucket once per
    day (``connect`` opens a database session), then verify and tag the dump. With
    ``checksums_on: restored_copy``, ``restore_server`` (its connection settings and a
    session opener) holds the copy whose checksums complete the manifest."""
    bucket, key = plan["dr_bucket"], plan["dump_key"]
    key_arn = resolve_key(kms, plan["dr_kms_key"], plan["dr_region"])
    existing = _head(s3, bucket, key)
    if existing is not None:
        tags = as_mapping(s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"])
        manifest_head = _head(s3, bucket, plan["manifest_key"]) or {}
        facts: DumpFacts = {
            "key": key,
            "version_id": existing.get("VersionId"),
            "bytes_compressed": existing["ContentLength"],
            "bytes_raw": int(tags.get("bytes-raw", 0)),
            "sha256": tags.get("sha256"),
            "reused": True,
            "manifest": manifest_facts(
                plan["manifest_key"],
                manifest_head.get("VersionId"),
                _read_json(s3, bucket, plan["manifest_key"]),
            ),
        }
    else:
        stored: list[ManifestFacts] = []

        def store_manifest(manifest: dict[str, Any]) -> None:
            manifest |= {"instance": plan["instance"], "read_from": plan["read_from"]}
            version = _put_manifest(plan, s3, kms, plan["manifest_key"], manifest)
            stored.append(manifest_facts(plan["manifest_key"], version, manifest))

        copy = None
        if plan.get("checksums_on") == "restored_copy":
            if restore_server is None:
                raise RdsBackupFailed("checksums_on: restored_copy needs the restore server")
            scratch = f"restore_copy_{uuid.uuid4().hex[:12]}"
            copy = RestoredCopy(restore_server[0], restore_server[1], scratch)
        try:
            taken = dump_at_one_moment(
                connect,
                connection,
                plan["database"],
                s3=s3,
                bucket=bucket,
                key=key,
                kms_key_arn=key_arn,
                tags=_tagging(plan, verified=False),
                store_manifest=store_manifest,
                restored_copy=copy,
            )
        finally:
            if copy:  # its scratch database goes whatever happened
                copy.drop()
        snapshot_manifest = plan.get("snapshot_manifest")
        before = (snapshot_manifest.get("counters") if snapshot_manifest else None) or {}
        facts = _dump_facts(taken.result)
        facts["manifest"] = stored[0]
        facts["moment"] = {
            "writes_paused_seconds": taken.writes_paused_seconds,
            "rows_written_since_snapshot_manifest": (
                rows_changed_between(before, taken.counters) if before else None
            ),
        }
    head = s3.head_object(Bucket=bucket, Key=key)
    problems = []
    if head.get("ServerSideEncryption") != "aws:kms" or head.get("SSEKMSKeyId") != key_arn:
        problems.append(f"encrypted with {head.get('SSEKMSKeyId')}, not {key_arn}")
    if head["ContentLength"] != facts["bytes_compressed"] or not facts["bytes_compressed"]:
        problems.append(f"{head['ContentLength']} bytes stored, {facts['bytes_compressed']} sent")
    if problems:
        raise RdsBackupFailed(
            f"dump s3://{bucket}/{key} failed verification: {'; '.join(problems)}"
        )
    s3.put_object_tagging(
        Bucket=bucket,
        Key=key,
        Tagging={
            "TagSet": [
                {"Key": k, "Value": str(v)}
                for k, v in {
                    **_tags(plan, verified=True),
                    "sha256": facts["sha256"],
                    "bytes-raw": facts["bytes_raw"],
                }.items()
            ]
        },
    )
    return {**plan, "dump": {**facts, "kms_key_arn": key_arn}}


def _dump_facts(result: DumpResult) -> DumpFacts:
    return {
        "key": result.key,
        "version_id": result.version_id,
        "bytes_raw": result.bytes_raw,
        "bytes_compressed": result.bytes_compressed,
        "sha256": result.sha256,
        "parts": result.parts,
        "seconds": result.seconds,
        "reused": False,
    }


def record_backup(plan: InstancePlan, run: RunInfo) -> BackupSummary:
    """Store the run's evidence for one instance; return the few facts a person looks for."""
    path = record_evidence(
        EVIDENCE_KIND, rds_asset(plan["instance"]), run.dag_id, run.run_id, "pass", dict(plan)
    )
    return {
        "evidence": str(path),
        "snapshot": plan["snapshot"]["arn"],
        "dr_copy": plan["copy"]["arn"],
        "dr_copy_kms_key": plan["copy"]["kms_key_id"],
        "dump": f"s3://{plan['dr_bucket']}/{plan['dump']['key']}",
        "dump_sha256": plan["dump"]["sha256"],
        "encrypted_in_transit": _in_transit(plan),
        "tables": plan["dump"]["manifest"]["tables"],
        "rows": plan["dump"]["manifest"]["rows"],
    }


def _in_transit(plan: InstancePlan) -> str:
    tls = plan.get("in_transit")
    return f"{tls['protocol']} ({tls['cipher']})" if tls else "not recorded"


def retention_targets(
    plans: list[InstancePlan], aws_conn_ids: Mapping[str, str]
) -> list[RetentionTarget]:
    """Where retention applies per instance: the snapshots in both regions, and the dumps."""
    targets: list[RetentionTarget] = []
    for plan in plans:
        instance = plan["instance"]
        for side, region in (("production", plan["production_region"]), ("dr", plan["dr_region"])):
            targets.append(
                {
                    "asset": f"{rds_asset(instance)}@{region}",
                    "inventory": "rds_snapshots",
                    "inventory_args": {
                        "instance": instance,
                        "aws_conn_id": aws_conn_ids[side],
                        "region_name": region,
                    },
                }
            )
        targets.append(
            {
                "asset": f"{rds_asset(instance)}/dumps",
                "inventory": "rds_dumps",
                "inventory_args": {
                    "instance": instance,
                    "bucket": plan["dr_bucket"],
                    "aws_conn_id": aws_conn_ids["dr"],
                    "region_name": plan["dr_region"],
                },
            }
        )
    return targets


def _tags(plan: InstancePlan, *, verified: bool) -> dict[str, str]:
    tags = {**as_mapping(owner_tags()), "backup-day": plan["day"], "instance": plan["instance"]}
    if verified:
        tags |= {VERIFIED_KEY: "true", COMPLETED_KEY: datetime.now(UTC).isoformat()}
    return tags


def _tagging(plan: InstancePlan, *, verified: bool) -> str:
    return urllib.parse.urlencode(_tags(plan, verified=verified))


def _head(s3: S3Client, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if is_not_found(exc):
            return None
        raise
    return dict(head)


def _read_json(s3: S3Client, bucket: str, key: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return body
