"""Restoring an RDS database: finding the backup a checked request names, then loading a
logical dump and comparing it with the backup's manifest.

An instance restore needs a snapshot (or a restorable window) and a target name
that does not exist yet; the restore itself is
:class:`~include.dr.operators.rds_restore.RdsRestoreInstanceOperator`. A logical
restore needs the day's dump and a target database that does not exist or holds
no tables; the dump is streamed into it through the ``mysql`` client
(:mod:`include.dr.rds.mysql_client`) and each table's row count and checksum are
compared with the manifest (:mod:`include.dr.rds.checksum`).
"""

from __future__ import annotations

import gzip
import json
import logging
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError

from include.dr.errors import is_not_found
from include.dr.evidence import Outcome
from include.dr.progress import Progress, human_bytes
from include.dr.rds.checksum import quote, table_checksum
from include.dr.rds.dump import TABLE_MARK
from include.dr.rds.mysql_client import feeding, find_client, options_file
from include.dr.rds.naming import backup_prefix, dump_key, manifest_key
from include.dr.rds.plans import LoadResult, RestorePlan, TableComparison
from include.dr.rds.restore_request import restore_side
from include.dr.restores import RestoreIncomplete, refuse
from include.dr.tags import as_mapping, is_ours, is_verified

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from types_boto3_rds import RDSClient
    from types_boto3_s3 import S3Client


log = logging.getLogger(__name__)


def check_native(request: RestorePlan, rds: RDSClient) -> RestorePlan:
    """Resolve the snapshot or the restorable window, and refuse an existing target.

    ``rds`` is a client in the request's :func:`restore_side` (its connection and region)."""
    side = restore_side(request)
    region = side.region
    found_at: RestorePlan = {**request, "region": region, "aws_conn_id": side.aws_conn_id}
    if _instance_exists(rds, request["target_instance"]):
        refuse(
            "target_instance",
            f"{request['target_instance']} already exists in {region}",
            "Choose a new name; a restore never replaces an instance.",
        )
    if request["source"] == "latest":
        snapshot = latest_snapshot(rds, request["instance"])
        if snapshot is None:
            refuse(
                "source",
                f"no verified DR snapshot of {request['instance']} in {region}",
                "Run rds_backup first (it tags the DR copy verified), or choose a snapshot "
                "by id or a logical dump.",
            )
        return {
            **found_at,
            "snapshot_id": snapshot["DBSnapshotIdentifier"],
            "allocated_gb": snapshot.get("AllocatedStorage"),
        }
    if request["source"] == "snapshot":
        try:
            found = rds.describe_db_snapshots(DBSnapshotIdentifier=request["snapshot_id"])[
                "DBSnapshots"
            ]
        except ClientError as exc:
            if not is_not_found(exc):
                raise
            found = []
        if not found or found[0].get("Status") != "available":
            refuse(
                "snapshot_id",
                f"no available snapshot {request['snapshot_id']} in {region}",
                "Pick one from the backup evidence, or use 'latest'.",
            )
        return {**found_at, "allocated_gb": found[0].get("AllocatedStorage")}
    return {**found_at, **_restorable(rds, request, region)}


def _restorable(rds: RDSClient, request: RestorePlan, region: str) -> RestorePlan:
    at = datetime.fromisoformat(request["restore_time"])
    instance_id = request["instance"]
    backups = automated_backups(rds, instance_id)
    if region == request["production_region"]:
        instance = rds.describe_db_instances(DBInstanceIdentifier=instance_id)["DBInstances"][0]
        resource = instance.get("DbiResourceId")
        backups = [b for b in backups if b.get("DbiResourceId") == resource] or backups
        latest = instance.get("LatestRestorableTime")
        retention = int(instance.get("BackupRetentionPeriod") or 0)
        source: RestorePlan = {
            **request,
            "source_instance": instance_id,
            "allocated_gb": instance.get("AllocatedStorage"),
        }
    else:
        if not backups:
            refuse(
                "region",
                f"{instance_id} has no automated backups replicated to {region}",
                "Enable cross-region automated backup replication, or choose 'production'.",
            )
        latest, retention = (backups[0].get("RestoreWindow") or {}).get("LatestTime"), 1
        source = {
            **request,
            "source_automated_backups_arn": backups[0]["DBInstanceAutomatedBackupsArn"],
            "allocated_gb": backups[0].get("AllocatedStorage"),
        }
    earliest = earliest_restorable(backups, automated_snapshot_times(rds, instance_id))
    check_restore_time(at, earliest if retention else None, latest, instance_id, region)
    return source


def automated_backups(rds: RDSClient, instance: str) -> list[dict[str, Any]]:
    """The instance's automated backups in the client's region, every page."""
    pages = rds.get_paginator("describe_db_instance_automated_backups").paginate(
        DBInstanceIdentifier=instance
    )
    return [dict(b) for page in pages for b in page.get("DBInstanceAutomatedBackups", [])]


def automated_snapshot_times(rds: RDSClient, instance: str) -> list[datetime]:
    """When the instance's retained automated snapshots were taken, every page."""
    pages = rds.get_paginator("describe_db_snapshots").paginate(
        DBInstanceIdentifier=instance, SnapshotType="automated"
    )
    return [
        s["SnapshotCreateTime"]
        for page in pages
        for s in page.get("DBSnapshots", [])
        if s.get("SnapshotCreateTime")
    ]


def earliest_restorable(
    backups: Sequence[Mapping[str, Any]], snapshot_times: Sequence[datetime]
) -> datetime | None:
    """The start of the automated backups' ``RestoreWindow``, not the instance's creation
    (retention prunes older backups); where RDS reports no window (moto never does), the
    oldest retained automated snapshot, from which nothing earlier can be rebuilt."""
    starts = [
        b["RestoreWindow"]["EarliestTime"]
        for b in backups
        if (b.get("RestoreWindow") or {}).get("EarliestTime")
    ]
    return min(starts, default=None) or min(snapshot_times, default=None)


def check_restore_time(
    at: datetime, earliest: datetime | None, latest: datetime | None, instance: str, region: str
) -> None:
    """Refuse (by field) a time outside the restorable window, naming the window."""
    if earliest is None or latest is None:
        refuse(
            "restore_time",
            f"{instance} keeps no automated backups in {region}, so no time is restorable",
            "Use a snapshot or a logical dump.",
        )
    if not earliest <= at <= latest:
        refuse(
            "restore_time",
            f"{at.isoformat()} is outside the restorable window of {instance} in {region}, "
            f"{earliest.isoformat()} to {latest.isoformat()} (UTC, from its automated backups)",
            "Choose a time inside that window, or a snapshot or a logical dump for older data.",
        )


def latest_snapshot(rds: RDSClient, instance: str) -> dict[str, Any] | None:
    """The newest *verified* snapshot of ``instance`` in the client's region: available,
    ours and tagged verified by the backup, so a newer copy that failed verification (or
    whose run is still going) is passed over. Every page is read; tags are read newest
    first, only until one is verified (tag filters are not supported everywhere: moto)."""
    pages = rds.get_paginator("describe_db_snapshots").paginate(
        DBInstanceIdentifier=instance, SnapshotType="manual"
    )
    available = [
        dict(s)
        for page in pages
        for s in page.get("DBSnapshots", [])
        if s.get("Status") == "available"
    ]
    for snapshot in sorted(available, key=lambda s: s["SnapshotCreateTime"], reverse=True):
        tags = as_mapping(
            rds.list_tags_for_resource(ResourceName=snapshot["DBSnapshotArn"])["TagList"]
        )
        if is_ours(tags) and is_verified(tags):
            return snapshot
    return None


def _instance_exists(rds: RDSClient, identifier: str) -> bool:
    try:
        rds.describe_db_instances(DBInstanceIdentifier=identifier)
    except ClientError as exc:
        if is_not_found(exc):
            return False
        raise
    return True


def check_logical(request: RestorePlan, dr_s3: S3Client, cursor: Any) -> RestorePlan:
    """The day's dump exists; the target database is new or empty."""
    instance, day = request["instance"], date.fromisoformat(request["dump_date"])
    key = dump_key(instance, day, request["database"])
    try:
        head = dr_s3.head_object(Bucket=request["dr_bucket"], Key=key)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        days = dump_days(dr_s3, request["dr_bucket"], instance)
        refuse(
            "dump_date",
            f"no dump of {instance} from {day.isoformat()}",
            f"Choose one of: {', '.join(days[-14:]) or 'none yet'}.",
        )
    cursor.execute(
        "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s",
        (request["target_database"],),
    )
    if int(cursor.fetchone()[0]):
        refuse(
            "target_database",
            f"{request['target_database']} already holds tables",
            "Restore into a new or empty database.",
        )
    return {
        **request,
        "dump_key": key,
        "manifest_key": manifest_key(instance, day),
        "dump_bytes": head["ContentLength"],
    }


def dump_days(dr_s3: S3Client, bucket: str, instance: str) -> list[str]:
    """The days with a dump of ``instance`` in the DR bucket, oldest first."""
    prefix = backup_prefix(instance, date(2000, 1, 1)).rsplit("/", 2)[0] + "/"
    pages = dr_s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(
        {
            i["Key"][len(prefix) :].split("/", 1)[0]
            for p in pages
            for i in p.get("Contents", [])
            if i["Key"].endswith(".sql.gz")
        }
    )


def load_dump(
    plan: Mapping[str, Any], dr_s3: S3Client, connection: Mapping[str, Any], cursor: Any
) -> LoadResult:
    """Create the database, stream the dump into it, and compare it with the manifest."""
    manifest = json.loads(
        dr_s3.get_object(Bucket=plan["dr_bucket"], Key=plan["manifest_key"])["Body"].read()
    )
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote(plan['target_database'])}")
    body = dr_s3.get_object(Bucket=plan["dr_bucket"], Key=plan["dump_key"])["Body"]
    progress = Progress(
        f"loading s3://{plan['dr_bucket']}/{plan['dump_key']} into {plan['target_database']}",
        total=len(manifest.get("tables", {})),
        total_bytes=plan.get("dump_bytes"),
        unit="tables",
    )
    with progress, tempfile.TemporaryDirectory(prefix="rds-restore-") as work:
        options = options_file(Path(work), connection)
        _stream_into_mysql(_Counted(body, progress), options, plan["target_database"], progress)
    return compare_with_manifest(cursor, plan["target_database"], manifest)


def _stream_into_mysql(
    body: Any, options: Path, database: str, progress: Progress | None = None
) -> None:
    argv = [
        find_client("mariadb", "mysql"),
        f"--defaults-extra-file={options}",
        "--batch",
        database,
    ]
    ended, failed = feeding(argv, _tables_begun(_gunzip(body), progress))
    if not ended.ok or failed:
        detail = ended.message[-500:] or repr(failed)
        raise RestoreIncomplete(f"loading the dump into {database} failed: {detail}")


class _Counted:
    """The dump's compressed body, its bytes counted as they are read."""

    def __init__(self, body: Any, progress: Progress) -> None:
        self.body, self.progress = body, progress

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.body.read(size)
        self.progress.advance(bytes=len(data))
        return data


def _tables_begun(chunks: Iterator[bytes], progress: Progress | None) -> Iterator[bytes]:
    """The chunks passed on, each table's header in them counted (the load's progress)."""
    tail = b""
    for chunk in chunks:
        if progress is not None:
            progress.advance((tail + chunk).count(TABLE_MARK) - tail.count(TABLE_MARK))
            tail = (tail + chunk)[-512:]
        yield chunk


def _gunzip(body: Any) -> Iterator[bytes]:
    with gzip.GzipFile(fileobj=body) as stream:
        while chunk := stream.read(1024 * 1024):
            yield chunk


def compare_with_manifest(cursor: Any, database: str, manifest: Mapping[str, Any]) -> LoadResult:
    """Each table's row count and content checksum against the backup-time manifest."""
    tables: dict[str, TableComparison] = {}
    for table, entry in manifest["tables"].items():
        found = table_checksum(cursor, database, table, [c["name"] for c in entry["columns"]])
        tables[table] = {
            "rows": found.rows,
            "expected_rows": entry["row_count"],
            "checksum_equal": found.checksum == entry["checksum"],
        }
    equal = all(t["rows"] == t["expected_rows"] and t["checksum_equal"] for t in tables.values())
    return {
        "tables": tables,
        "equal_to_manifest": equal,
        "checked_at": datetime.now(UTC).isoformat(),
    }


def amount(plan: Mapping[str, Any]) -> str:
    """What the restore moves, as exactly as the plan knows it."""
    if plan.get("dump_bytes") is not None:
        return (
            f"would load s3://{plan['dr_bucket']}/{plan['dump_key']} "
            f"({human_bytes(plan['dump_bytes'])} compressed, {plan['dump_bytes']} bytes) "
            f"into the database {plan.get('target_database')}"
        )
    what = plan.get("snapshot_id") or f"{plan['instance']} as of {plan.get('restore_time')}"
    size = plan.get("allocated_gb")
    return f"would restore {what} into the new instance {plan.get('target_instance')}" + (
        f" ({size} GiB of allocated storage)" if size else ""
    )


class RestoreOutcome(NamedTuple):
    """A restore's verdict: pass unless a loaded dump differs from its manifest."""

    outcome: Outcome
    details: dict[str, Any]  # the evidence record's details
    summary: dict[str, Any]  # the report task's return value


def restore_outcome(
    plan: RestorePlan, instance: Mapping[str, Any] | None, loaded: Mapping[str, Any] | None
) -> RestoreOutcome:
    """Judge a restore from its plan and its path's result (``None`` where it did not run)."""
    step = "dry run" if plan["dry_run"] else "restored"
    if plan["dry_run"]:
        log.info("dry run: %s", amount(plan))
    ok = loaded is None or bool(loaded["equal_to_manifest"])
    details = {"step": step, **plan, "instance_result": instance, "load_result": loaded}
    summary = {"step": step, "instance": instance, "equal_to_manifest": ok}
    return RestoreOutcome("pass" if ok else "fail", details, summary)
