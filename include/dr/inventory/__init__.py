"""Inventories of one asset's backups, which the retention operator plans over.

Each kind of backup (RDS snapshots, S3 run manifests, git bundles) has an
inventory class registered here by name, so the operator can be told which to
use in a serialisable way: ``inventory="rds_snapshots"`` plus its arguments.
"""

from __future__ import annotations

from typing import Any, Protocol

from include.dr.errors import Permanent
from include.dr.retention import Backup


class UnknownInventory(Permanent, ValueError):
    """A retention target names an inventory that is not registered (a wiring mistake)."""


class BackupInventory(Protocol):
    """Lists an asset's backups and deletes one by id."""

    def list_backups(self) -> list[Backup]: ...

    def delete(self, backup_id: str) -> bool:
        """Delete the backup; return False when it was already gone."""
        ...


def open_inventory(name: str, **arguments: Any) -> BackupInventory:
    """Build the inventory registered as ``name``; an unknown name lists the known ones."""
    from include.dr.inventory.dated_folders import DatedFolderInventory
    from include.dr.inventory.git_bundles import LocalBundleInventory
    from include.dr.inventory.rds_snapshots import RdsSnapshotInventory

    registry: dict[str, Any] = {
        "rds_snapshots": RdsSnapshotInventory.open,
        "rds_dumps": DatedFolderInventory.for_rds_dumps,
        "s3_manifests": DatedFolderInventory.for_s3_manifests,
        "git_bundles": LocalBundleInventory.open,
        "git_dr_bundles": DatedFolderInventory.for_git_bundles,
    }
    if name not in registry:
        raise UnknownInventory(
            f"unknown backup inventory {name!r}; known inventories: {', '.join(sorted(registry))}"
        )
    inventory: BackupInventory = registry[name](**arguments)
    return inventory
