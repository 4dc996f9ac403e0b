"""Restoring an RDS database: a new instance from a snapshot or a point in time, or a
logical dump loaded into a new database.

Every target must be new: an instance or database the policy names as
production is refused, an existing instance is refused, and a dump is loaded
only into a database that does not exist or holds no tables. A restored
instance is never publicly accessible, carries our tags, and keeps the
snapshot's encryption (the DR key, for the DR copies).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from botocore.exceptions import ClientError

from include.dr.checks import error_code
from include.dr.policy.model import BackupPolicy
from include.dr.rds.dump import options_file
from include.dr.rds.manifest import checksum_sql, quote
from include.dr.rds.naming import backup_prefix, dump_key, manifest_key
from include.dr.restores import RestoreIncomplete, parse_instant, refuse

SOURCES = ("latest", "snapshot", "point_in_time", "logical_dump")
_INSTANCE = re.compile(r"[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*")
_DATABASE = re.compile(r"[A-Za-z0-9_]{1,64}")
_CLASS = re.compile(r"db\.[a-z0-9]+\.[a-z0-9]+")
_SUBNET_GROUP = re.compile(r"[a-zA-Z0-9 ._-]{1,255}")
_SECURITY_GROUP = re.compile(r"sg-[0-9a-f]{8,17}")


def validate_request(
    params: Mapping[str, Any], policy: BackupPolicy, now: datetime
) -> dict[str, Any]:
    """The request, normalised; refuses by field. AWS and MySQL are checked next."""
    assets = {asset.instance: asset for asset in policy.assets.rds}
    instance = str(params.get("instance") or "")
    if instance not in assets:
        refuse(
            "instance",
            f"{instance!r} is not an instance the policy backs up",
            f"Choose one of: {', '.join(sorted(assets))}.",
        )
    source = str(params.get("source") or "")
    if source not in SOURCES:
        refuse(
            "source", f"{source!r} is not a restore source", f"Choose one of: {', '.join(SOURCES)}."
        )
    request: dict[str, Any] = {
        "instance": instance,
        "database": assets[instance].database,
        "dr_bucket": assets[instance].dr_bucket,
        "source": source,
        "dry_run": params.get("dry_run") is not False,
        "production_region": policy.regions.production,
        "dr_region": policy.regions.dr,
    }
    if source == "logical_dump":
        return request | _logical_target(params, policy)
    request |= _native_target(params, assets)
    if source == "snapshot":
        snapshot = str(params.get("snapshot_id") or "")
        if not _INSTANCE.fullmatch(snapshot) or len(snapshot) > 255:
            refuse(
                "snapshot_id",
                f"{snapshot!r} is not a snapshot identifier",
                "Copy it from the RDS console or the backup evidence.",
            )
        request["snapshot_id"] = snapshot
    if source == "point_in_time":
        region = str(params.get("region") or "production")
        if region not in {"production", "dr"}:
            refuse("region", f"{region!r} is not a region choice", "Choose 'production' or 'dr'.")
        request["pitr_region"] = (
            policy.regions.production if region == "production" else policy.regions.dr
        )
        request["restore_time"] = parse_instant(
            "restore_time", params.get("restore_time"), now
        ).isoformat()
    return request


def _native_target(params: Mapping[str, Any], assets: Mapping[str, Any]) -> dict[str, Any]:
    target = str(params.get("target_instance") or "")
    if not _INSTANCE.fullmatch(target) or len(target) > 63:
        refuse(
            "target_instance",
            f"{target!r} is not an RDS instance identifier",
            "Use 1-63 letters, digits or single hyphens, starting with a letter, "
            "e.g. customers-restored.",
        )
    if target in assets:
        refuse(
            "target_instance",
            f"{target} is a production instance",
            "Restore into a new instance name.",
        )
    instance_class = str(params.get("instance_class") or "")
    if instance_class and not _CLASS.fullmatch(instance_class):
        refuse(
            "instance_class",
            f"{instance_class!r} is not an instance class",
            "Use e.g. db.t3.micro, or leave it empty for the snapshot's class.",
        )
    subnet_group = str(params.get("subnet_group") or "")
    if subnet_group and not _SUBNET_GROUP.fullmatch(subnet_group):
        refuse(
            "subnet_group",
            f"{subnet_group!r} is not a DB subnet group name",
            "Give the group's name, or leave it empty for the default.",
        )
    groups = params.get("security_group_ids") or []
    if not isinstance(groups, list) or not all(
        isinstance(g, str) and _SECURITY_GROUP.fullmatch(g) for g in groups
    ):
        refuse(
            "security_group_ids",
            f"{groups!r} is not a list of security group ids",
            "Give ids like sg-0123456789abcdef0, or none for the default group.",
        )
    return {
        "target_instance": target,
        "instance_class": instance_class or None,
        "subnet_group": subnet_group or None,
        "security_group_ids": list(groups),
    }


def _logical_target(params: Mapping[str, Any], policy: BackupPolicy) -> dict[str, Any]:
    wanted = str(params.get("dump_date") or "")
    try:
        day = date.fromisoformat(wanted).isoformat()
    except ValueError:
        refuse("dump_date", f"{wanted!r} is not a date", "Use YYYY-MM-DD.")
    database = str(params.get("target_database") or "")
    if not _DATABASE.fullmatch(database):
        refuse(
            "target_database",
            f"{database!r} is not a database name",
            "Use 1-64 letters, digits or _, e.g. restore_customers.",
        )
    if database in {asset.database for asset in policy.assets.rds} or database.lower() in {
        "mysql",
        "sys",
        "information_schema",
        "performance_schema",
    }:
        refuse(
            "target_database",
            f"{database} is a production or system database",
            "Restore into a new database, e.g. restore_customers.",
        )
    return {"dump_date": day, "target_database": database}


def check_native(request: Mapping[str, Any], rds_by_region: Mapping[str, Any]) -> dict[str, Any]:
    """Resolve the snapshot or the restorable window, and refuse an existing target."""
    region = request.get("pitr_region") or request["dr_region"]
    rds = rds_by_region[region]
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
                f"no available DR snapshot of {request['instance']} in {region}",
                "Run rds_backup first, or choose a logical dump.",
            )
        return {**request, "snapshot_id": snapshot["DBSnapshotIdentifier"], "region": region}
    if request["source"] == "snapshot":
        try:
            found = rds.describe_db_snapshots(DBSnapshotIdentifier=request["snapshot_id"])[
                "DBSnapshots"
            ]
        except ClientError:
            found = []
        if not found or found[0].get("Status") != "available":
            refuse(
                "snapshot_id",
                f"no available snapshot {request['snapshot_id']} in {region}",
                "Pick one from the backup evidence, or use 'latest'.",
            )
        return {**request, "region": region}
    return {**request, **_restorable(rds, request, region), "region": region}


def _restorable(rds: Any, request: Mapping[str, Any], region: str) -> dict[str, Any]:
    at = datetime.fromisoformat(request["restore_time"])
    if region == request["production_region"]:
        instance = rds.describe_db_instances(DBInstanceIdentifier=request["instance"])[
            "DBInstances"
        ][0]
        latest = instance.get("LatestRestorableTime")
        retention = int(instance.get("BackupRetentionPeriod") or 0)
        earliest = instance.get("InstanceCreateTime")
        source = {"source_instance": request["instance"]}
    else:
        backups = rds.describe_db_instance_automated_backups(
            DBInstanceIdentifier=request["instance"]
        ).get("DBInstanceAutomatedBackups", [])
        if not backups:
            refuse(
                "region",
                f"{request['instance']} has no automated backups replicated to {region}",
                "Enable cross-region automated backup replication, or choose 'production'.",
            )
        window = backups[0].get("RestoreWindow", {})
        latest, earliest, retention = window.get("LatestTime"), window.get("EarliestTime"), 1
        source = {"source_automated_backups_arn": backups[0]["DBInstanceAutomatedBackupsArn"]}
    if not retention or latest is None:
        refuse(
            "restore_time",
            f"{request['instance']} keeps no automated backups in {region}",
            "Use a snapshot or a logical dump.",
        )
    if (earliest and at < earliest) or at > latest:
        refuse(
            "restore_time",
            f"{at.isoformat()} is outside the restorable window ({earliest} to {latest})",
            "Choose a time inside it.",
        )
    return source


def latest_snapshot(rds: Any, instance: str) -> dict[str, Any] | None:
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=instance).get("DBSnapshots", [])
    available = [s for s in snapshots if s.get("Status") == "available"]
    return max(available, key=lambda s: s["SnapshotCreateTime"], default=None)


def _instance_exists(rds: Any, identifier: str) -> bool:
    try:
        rds.describe_db_instances(DBInstanceIdentifier=identifier)
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            return False
        raise
    return True


def check_logical(request: Mapping[str, Any], dr_s3: Any, cursor: Any) -> dict[str, Any]:
    """The day's dump exists; the target database is new or empty."""
    instance, day = request["instance"], date.fromisoformat(request["dump_date"])
    key = dump_key(instance, day, request["database"])
    try:
        head = dr_s3.head_object(Bucket=request["dr_bucket"], Key=key)
    except ClientError:
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


def dump_days(dr_s3: Any, bucket: str, instance: str) -> list[str]:
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
    plan: Mapping[str, Any], dr_s3: Any, connection: Mapping[str, Any], cursor: Any
) -> dict[str, Any]:
    """Create the database, stream the dump into it, and compare it with the manifest."""
    cursor.execute(f"CREATE DATABASE IF NOT EXISTS {quote(plan['target_database'])}")
    body = dr_s3.get_object(Bucket=plan["dr_bucket"], Key=plan["dump_key"])["Body"]
    with tempfile.TemporaryDirectory(prefix="rds-restore-") as work:
        options = options_file(Path(work), connection)
        _stream_into_mysql(body, options, plan["target_database"])
    manifest = json.loads(
        dr_s3.get_object(Bucket=plan["dr_bucket"], Key=plan["manifest_key"])["Body"].read()
    )
    return compare_with_manifest(cursor, plan["target_database"], manifest)


def _stream_into_mysql(body: Any, options: Path, database: str) -> None:
    binary = _client_binary()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, credentials in the options file
            [binary, f"--defaults-extra-file={options}", "--batch", database],
            stdin=subprocess.PIPE,
            stderr=errors,
        )
        assert process.stdin is not None
        failed: list[BaseException] = []

        def feed(stdin: IO[bytes]) -> None:
            try:
                for chunk in _gunzip(body):
                    stdin.write(chunk)
            except BaseException as exc:  # noqa: BLE001 - reported after mysql exits
                failed.append(exc)
            finally:
                stdin.close()

        feeder = threading.Thread(target=feed, args=(process.stdin,), daemon=True)
        feeder.start()
        code = process.wait()
        feeder.join()
        if code != 0 or failed:
            errors.seek(0)
            detail = errors.read().decode(errors="replace").strip()[-500:] or repr(failed[:1])
            raise RestoreIncomplete(f"loading the dump into {database} failed: {detail}")


def _gunzip(body: Any) -> Iterator[bytes]:
    with gzip.GzipFile(fileobj=body) as stream:
        while chunk := stream.read(1024 * 1024):
            yield chunk


def _client_binary() -> str:
    import shutil

    for name in ("mariadb", "mysql"):
        if found := shutil.which(name):
            return found
    raise RestoreIncomplete("no mysql client on the worker; install mariadb-client (packages.txt)")


def compare_with_manifest(
    cursor: Any, database: str, manifest: Mapping[str, Any]
) -> dict[str, Any]:
    """Each table's row count and content checksum against the backup-time manifest."""
    tables: dict[str, Any] = {}
    for table, entry in manifest["tables"].items():
        cursor.execute(checksum_sql(database, table, [c["name"] for c in entry["columns"]]))
        rows, xor, total = cursor.fetchone()
        checksum = f"{int(xor):08x}-{int(total):x}"
        tables[table] = {
            "rows": int(rows),
            "expected_rows": entry["row_count"],
            "checksum_equal": checksum == entry["checksum"],
        }
    equal = all(t["rows"] == t["expected_rows"] and t["checksum_equal"] for t in tables.values())
    return {
        "tables": tables,
        "equal_to_manifest": equal,
        "checked_at": datetime.now(UTC).isoformat(),
    }
