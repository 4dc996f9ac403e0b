"""Names derived from the instance and the run's window day, so a re-run finds its own work."""

from __future__ import annotations

from datetime import date


def snapshot_id(instance: str, day: date) -> str:
    """The snapshot of ``instance`` for ``day``: the same in both regions."""
    return f"{instance}-{day.isoformat()}"


def backup_prefix(instance: str, day: date) -> str:
    """The DR-bucket folder that holds one day's manifest and dump."""
    return f"rds/{instance}/{day.isoformat()}/"


def manifest_key(instance: str, day: date) -> str:
    return f"{backup_prefix(instance, day)}manifest.json"


def dump_key(instance: str, day: date, database: str) -> str:
    return f"{backup_prefix(instance, day)}{database}.sql.gz"
