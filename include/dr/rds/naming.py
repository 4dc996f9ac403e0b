"""Names derived from the instance and the run's window day, so a re-run finds its own work."""

from __future__ import annotations

from datetime import date

from include.dr.asset_names import dated_prefix, rds_asset


def snapshot_id(instance: str, day: date) -> str:
    """The snapshot of ``instance`` for ``day``: the same in both regions."""
    return f"{instance}-{day.isoformat()}"


def backup_prefix(instance: str, day: date) -> str:
    """The DR-bucket folder that holds one day's manifest and dump."""
    return dated_prefix(rds_asset(instance), day.isoformat())


def manifest_key(instance: str, day: date) -> str:
    return f"{backup_prefix(instance, day)}manifest.json"


def dump_key(instance: str, day: date, database: str) -> str:
    return f"{backup_prefix(instance, day)}{database}.sql.gz"
