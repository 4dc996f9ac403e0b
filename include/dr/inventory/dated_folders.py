"""Dated folders in a DR bucket, as a backup inventory: RDS dumps, S3 run manifests and
git bundles.

A backup is one day's folder under a prefix (``rds/<instance>/<day>/`` or
``git/<org>/<repo>/<day>/``), or, for S3 run manifests, one run's folder
(``.backup/manifests/<bucket>/<day>/<run>/``, and ``<day>/`` itself where a
summary from before runs had folders sits straight in it). Its *marker* object,
written last (the dump, the run summary, or the bundle's sidecar), says it is
finished; the marker's tags say whether it is ours and
verified, and when it completed. Deleting a folder writes delete markers: the
DR bucket is versioned, so the bytes stay recoverable until the lifecycle rule,
which keeps noncurrent versions at least the policy minimum, expires them, and
never before their Object Lock runs out (:mod:`include.dr.s3.object_lock`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from include.dr.asset_names import git_asset, rds_asset
from include.dr.aws_clients import hook_clients
from include.dr.errors import NOT_FOUND_CODES
from include.dr.inventory import UndeletedKey, incomplete_deletion
from include.dr.retention import Backup
from include.dr.s3.layout import SUMMARY, manifests_of
from include.dr.s3.object_lock import locked_until
from include.dr.tags import COMPLETED_KEY, as_mapping, is_ours, is_verified

# S3 deletes at most 1,000 keys per DeleteObjects request.
DELETE_BATCH = 1000


class DatedFolderInventory:
    def __init__(
        self, s3: Any, bucket: str, prefix: str, marker_suffix: str, by_run: bool = False
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self.marker_suffix = marker_suffix
        self.by_run = by_run  # a backup is the folder holding each object, not its day

    @classmethod
    def for_rds_dumps(
        cls, *, instance: str, bucket: str, aws_conn_id: str, region_name: str
    ) -> DatedFolderInventory:
        return cls(
            hook_clients(aws_conn_id)("s3", region_name),
            bucket,
            f"{rds_asset(instance)}/",
            ".sql.gz",
        )

    @classmethod
    def for_s3_manifests(
        cls, *, source: str, bucket: str, aws_conn_id: str, region_name: str
    ) -> DatedFolderInventory:
        s3 = hook_clients(aws_conn_id)("s3", region_name)
        return cls(s3, bucket, manifests_of(source), SUMMARY, by_run=True)

    @classmethod
    def for_git_bundles(
        cls, *, organisation: str, repository: str, bucket: str, aws_conn_id: str, region_name: str
    ) -> DatedFolderInventory:
        s3 = hook_clients(aws_conn_id)("s3", region_name)
        return cls(s3, bucket, f"{git_asset(organisation, repository)}/", "bundle.json")

    def _objects(self, prefix: str) -> list[dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item for page in pages for item in page.get("Contents", [])]

    def _folder(self, key: str) -> str:
        if self.by_run:
            return key.rsplit("/", 1)[0] + "/"
        return self.prefix + key[len(self.prefix) :].split("/", 1)[0] + "/"

    def list_backups(self) -> list[Backup]:
        folders: dict[str, list[dict[str, Any]]] = {}
        for item in self._objects(self.prefix):
            folders.setdefault(self._folder(item["Key"]), []).append(item)
        backups = []
        for folder, items in folders.items():
            markers = [item for item in items if item["Key"].endswith(self.marker_suffix)]
            tags = (
                as_mapping(
                    self.s3.get_object_tagging(Bucket=self.bucket, Key=markers[0]["Key"])["TagSet"]
                )
                if markers
                else {}
            )
            newest = max(item["LastModified"] for item in items)
            completed: datetime = (
                datetime.fromisoformat(tags[COMPLETED_KEY]) if COMPLETED_KEY in tags else newest
            )
            backups.append(
                Backup(
                    backup_id=folder,
                    completed_at=completed,
                    finished=bool(markers),
                    verified=is_verified(tags),
                    ours=is_ours(tags),
                    state="complete" if markers else f"no {self.marker_suffix} yet",
                )
            )
        return backups

    def _keys(self, backup_id: str) -> list[str]:
        # A run's folder only: an older day folder holds the day's run folders too.
        return [i["Key"] for i in self._objects(backup_id) if self._folder(i["Key"]) == backup_id]

    def locked_until(self, backup_id: str) -> datetime | None:
        return locked_until(self.s3, self.bucket, self._keys(backup_id))

    def delete(self, backup_id: str) -> bool:
        keys = self._keys(backup_id)
        if not keys:
            return False
        failed: list[UndeletedKey] = []
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            answer = self.s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            failed.extend(undeleted(answer))
        if failed:
            kind = incomplete_deletion(failed)
            raise kind(f"s3://{self.bucket}/{backup_id}", failed, len(keys) - len(failed))
        return True


def undeleted(answer: dict[str, Any]) -> list[UndeletedKey]:
    """The keys a ``DeleteObjects`` answer did not delete; a key already gone counts as
    deleted."""
    return [
        UndeletedKey(
            key=str(error.get("Key", "")),
            code=str(error.get("Code", "")),
            message=str(error.get("Message", "")),
        )
        for error in answer.get("Errors", [])
        if error.get("Code") not in NOT_FOUND_CODES
    ]
