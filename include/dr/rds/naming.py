"""Names derived from the instance and the run's window day, so a re-run finds its own work."""

from __future__ import annotations

import re
from datetime import date

from include.dr.asset_names import dated_prefix, rds_asset

# What AWS accepts as an instance class, a DB subnet group name and a security group id
# (a restore form's fields, and the restore test's in the policy file).
INSTANCE_CLASS = re.compile(r"db\.[a-z0-9]+\.[a-z0-9]+")
SUBNET_GROUP = re.compile(r"[a-zA-Z0-9 ._-]{1,255}")
SECURITY_GROUP = re.compile(r"sg-[0-9a-f]{8,17}")


def snapshot_id(instance: str, day: date) -> str:
    """The snapshot of ``instance`` for ``day``: the same in both regions."""
    return f"{instance}-{day.isoformat()}"


def backup_prefix(instance: str, day: date) -> str:
    """The DR-bucket folder that holds one day's manifest and dump."""
    return dated_prefix(rds_asset(instance), day.isoformat())


def manifest_key(instance: str, day: date) -> str:
    """The dump's manifest: the database at the dump's own moment."""
    return f"{backup_prefix(instance, day)}manifest.json"


def snapshot_manifest_key(instance: str, day: date) -> str:
    """The database just before the day's RDS snapshot was asked for."""
    return f"{backup_prefix(instance, day)}snapshot-manifest.json"


def dump_key(instance: str, day: date, database: str) -> str:
    return f"{backup_prefix(instance, day)}{database}.sql.gz"
