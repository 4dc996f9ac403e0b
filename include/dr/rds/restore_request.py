"""An RDS restore request, checked field by field before AWS or MySQL is asked anything.

Pure: from the trigger form's values, the policy and the clock to a normalised
:class:`~include.dr.rds.plans.RestorePlan`, or a
:class:`~include.dr.restores.RestoreRefused` naming the field and the fix. Every
target must be new: a production instance or database is refused, and names are
checked against what RDS and MySQL accept (a run's configuration can bypass the
form, so nothing here trusts it). Also here: which AWS connection and region an
instance restore acts in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, NamedTuple, TypedDict

from include.dr.connections import AWS_RESTORE, AWS_RESTORE_PRODUCTION
from include.dr.policy.model import BackupPolicy
from include.dr.rds.naming import INSTANCE_CLASS, SECURITY_GROUP, SUBNET_GROUP
from include.dr.rds.plans import RestorePlan
from include.dr.restores import RESTORED_INSTANCE_PREFIX, one_of, parse_instant, refuse

SOURCES = ("latest", "snapshot", "point_in_time", "logical_dump")
_INSTANCE = re.compile(r"[a-zA-Z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*")
_DATABASE = re.compile(r"[A-Za-z0-9_]{1,64}")


class _NativeTarget(TypedDict):
    target_instance: str
    instance_class: str | None
    subnet_group: str | None
    security_group_ids: list[str]


class _LogicalTarget(TypedDict):
    dump_date: str
    target_database: str


class RestoreSide(NamedTuple):
    """Where an instance restore acts: the AWS connection and the region."""

    aws_conn_id: str
    region: str


def restore_side(request: RestorePlan) -> RestoreSide:
    """A point in time restores as the restore operator's production side, in the region
    asked: automated backups, replicated ones included, stay in the production account
    (RDS replicates them only within an account). Everything else (the DR snapshot
    copies) restores in the DR region, as the restore operator in the DR account."""
    if pitr_region := request.get("pitr_region"):
        return RestoreSide(AWS_RESTORE_PRODUCTION, pitr_region)
    return RestoreSide(AWS_RESTORE, request["dr_region"])


def validate_request(params: Mapping[str, Any], policy: BackupPolicy, now: datetime) -> RestorePlan:
    """The request, normalised; refuses by field. AWS and MySQL are checked next."""
    assets = {asset.instance: asset for asset in policy.assets.rds}
    instance = one_of("instance", params.get("instance"), assets, "an instance the policy backs up")
    source = str(params.get("source") or "")
    if source not in SOURCES:
        refuse(
            "source", f"{source!r} is not a restore source", f"Choose one of: {', '.join(SOURCES)}."
        )
    request: RestorePlan = {
        "instance": instance,
        "database": assets[instance].database,
        "dr_bucket": assets[instance].dr_bucket,
        "source": source,
        "dry_run": params.get("dry_run") is not False,
        "production_region": policy.regions.production,
        "dr_region": policy.regions.dr,
    }
    if source == "logical_dump":
        return {**request, **_logical_target(params, policy)}
    request = {**request, **_native_target(params, assets)}
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
        if region == "dr" and not assets[instance].pitr_in_dr_region:
            refuse(
                "region",
                f"the policy does not replicate {instance}'s automated backups to "
                f"{policy.regions.dr}, so no point in time is restorable there",
                "Choose 'production', or set pitr_in_dr_region for the instance in the policy "
                "file once replication is on (the preflight checks it).",
            )
        request["pitr_region"] = (
            policy.regions.production if region == "production" else policy.regions.dr
        )
        request["restore_time"] = parse_instant(
            "restore_time", params.get("restore_time"), now
        ).isoformat()
    return request


def _native_target(params: Mapping[str, Any], assets: Mapping[str, Any]) -> _NativeTarget:
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
    if not target.startswith(RESTORED_INSTANCE_PREFIX):
        refuse(
            "target_instance",
            f"{target} is not named as a restored instance",
            f"Name it {RESTORED_INSTANCE_PREFIX}..., e.g. {RESTORED_INSTANCE_PREFIX}customers: "
            "the restore operator's role may create only instances so named.",
        )
    instance_class = str(params.get("instance_class") or "")
    if instance_class and not INSTANCE_CLASS.fullmatch(instance_class):
        refuse(
            "instance_class",
            f"{instance_class!r} is not an instance class",
            "Use e.g. db.t3.micro, or leave it empty for the snapshot's class.",
        )
    subnet_group = str(params.get("subnet_group") or "")
    if subnet_group and not SUBNET_GROUP.fullmatch(subnet_group):
        refuse(
            "subnet_group",
            f"{subnet_group!r} is not a DB subnet group name",
            "Give the group's name, or leave it empty for the default.",
        )
    groups = params.get("security_group_ids") or []
    if not isinstance(groups, list) or not all(
        isinstance(g, str) and SECURITY_GROUP.fullmatch(g) for g in groups
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


def _logical_target(params: Mapping[str, Any], policy: BackupPolicy) -> _LogicalTarget:
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


def restore_path(plan: RestorePlan) -> str:
    """The restore DAG's branch: a dry run only reports; an instance source restores
    natively; a logical dump loads into MySQL (the task ids of the three paths)."""
    if plan["dry_run"]:
        return "dry_run"
    return "load_dump" if plan["source"] == "logical_dump" else "restore_instance"
