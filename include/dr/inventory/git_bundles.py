"""A repository's dated bundles in the local backup store, as a backup inventory.

A bundle counts as finished and ours only once its sidecar JSON exists (written
last, after verification, with the owner marker). A bundle file without a
sidecar is never finished, so retention never deletes it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from include.dr.git.bundle import SIDECAR_SUFFIX, BundleRecord
from include.dr.retention import Backup
from include.dr.tags import OWNER_VALUE

BUNDLE_SUFFIX = ".bundle.enc"


class LocalBundleInventory:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def open(cls, *, bundles: str, organisation: str, repository: str) -> LocalBundleInventory:
        return cls(Path(bundles) / organisation / repository)

    def list_backups(self) -> list[Backup]:
        backups = []
        for bundle in sorted(self.folder.glob(f"*{BUNDLE_SUFFIX}")):
            day = bundle.name.removesuffix(BUNDLE_SUFFIX)
            sidecar = self.folder / f"{day}{SIDECAR_SUFFIX}"
            if sidecar.exists():
                record = BundleRecord.read(sidecar)
                completed, finished = datetime.fromisoformat(record.completed_at), True
                verified, ours = record.verified, record.managed_by == OWNER_VALUE
            else:
                completed = datetime.fromtimestamp(bundle.stat().st_mtime).astimezone()
                finished = verified = ours = False
            backups.append(
                Backup(
                    backup_id=day,
                    completed_at=completed,
                    finished=finished,
                    verified=verified,
                    ours=ours,
                    state="verified" if verified else "no sidecar (unverified)",
                )
            )
        return backups

    def delete(self, backup_id: str) -> bool:
        bundle = self.folder / f"{backup_id}{BUNDLE_SUFFIX}"
        sidecar = self.folder / f"{backup_id}{SIDECAR_SUFFIX}"
        if not bundle.exists():
            return False
        sidecar.unlink(missing_ok=True)  # first: a bundle without its sidecar is never deleted
        bundle.unlink()
        return True
