"""Inventories of one asset's backups, which the retention operator plans over.

Each kind of backup (RDS snapshots, S3 run manifests, git bundles) has an
inventory class registered here by name, so the operator can be told which to
use in a serialisable way: ``inventory="rds_snapshots"`` plus its arguments.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypedDict

from include.dr.errors import TRANSIENT_CODES, BackupError, Permanent, Transient
from include.dr.retention import Backup

# How many of a backup's undeleted keys an error (and so the evidence) names.
KEYS_NAMED = 20


class UnknownInventory(Permanent, ValueError):
    """A retention target names an inventory that is not registered (a wiring mistake)."""


class UndeletedKey(TypedDict):
    """One key a ``DeleteObjects`` answer says it did not delete, as S3 put it."""

    key: str
    code: str
    message: str


class DeletionIncomplete(BackupError):
    """Some of a backup's objects were not deleted, so the backup is not (fully) deleted.

    Raised after the rest of the backup was deleted; it names the keys that were not,
    and the retention operator records them before failing the task.
    """

    def __init__(self, backup_id: str, failed: Sequence[UndeletedKey], deleted: int) -> None:
        self.backup_id = backup_id
        self.failed = list(failed)
        self.deleted = deleted
        codes = sorted({item["code"] for item in self.failed})
        named = ", ".join(item["key"] for item in self.failed[:KEYS_NAMED])
        more = len(self.failed) - KEYS_NAMED
        super().__init__(
            f"{backup_id} is not fully deleted: S3 deleted {deleted} of its objects but "
            f"refused {len(self.failed)} ({', '.join(codes)}): {named}"
            + (f" and {more} more" if more > 0 else "")
            + f"; {self.next_step}"
        )

    next_step = "the next run deletes what is left"


class DeletionRefused(DeletionIncomplete, Permanent):
    """S3 refused to delete some keys for a reason retrying cannot mend (e.g. AccessDenied)."""

    next_step = (
        "grant the backup role s3:DeleteObject (and check the bucket policy and any "
        "object lock) on these keys; the next run deletes what is left"
    )


class DeletionThrottled(DeletionIncomplete, Transient):
    """S3 answered some keys with throttling or an internal error: a retry may delete them."""

    next_step = "the task is retried and deletes what is left"


def incomplete_deletion(failed: Sequence[UndeletedKey]) -> type[DeletionIncomplete]:
    """The error class for a partly deleted backup: transient only when every refusal was
    (throttling, an internal error); AccessDenied and the like are permanent."""
    if all(item["code"] in TRANSIENT_CODES for item in failed):
        return DeletionThrottled
    return DeletionRefused


class BackupInventory(Protocol):
    """Lists an asset's backups and deletes one by id."""

    def list_backups(self) -> list[Backup]: ...

    def delete(self, backup_id: str) -> bool:
        """Delete the backup; return False when it was already gone.

        Raises :class:`DeletionIncomplete` when some of it could not be deleted.
        """
        ...

    def locked_until(self, backup_id: str) -> datetime | None:
        """Until when S3's Object Lock keeps the backup's bytes whatever anyone deletes
        (``None``: no lock holds them). Asked before :meth:`delete`, which hides them."""
        ...


def open_inventory(name: str, **arguments: Any) -> BackupInventory:
    """Build the inventory registered as ``name``; an unknown name lists the known ones."""
    from include.dr.inventory.dated_folders import DatedFolderInventory
    from include.dr.inventory.rds_snapshots import RdsSnapshotInventory

    registry: dict[str, Any] = {
        "rds_snapshots": RdsSnapshotInventory.open,
        "rds_dumps": DatedFolderInventory.for_rds_dumps,
        "s3_manifests": DatedFolderInventory.for_s3_manifests,
        "git_dr_bundles": DatedFolderInventory.for_git_bundles,
    }
    if name not in registry:
        raise UnknownInventory(
            f"unknown backup inventory {name!r}; known inventories: {', '.join(sorted(registry))}"
        )
    inventory: BackupInventory = registry[name](**arguments)
    return inventory
