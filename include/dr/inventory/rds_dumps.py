"""One instance's daily dump folders in the DR bucket, as a backup inventory.

A backup is a day's folder (``rds/<instance>/<day>/``: manifest and dump). It is
finished when its dump exists (a dump appears only when its upload completed),
ours and verified by the dump's tags. Deleting it writes delete markers: the DR
bucket is versioned, so the bytes stay recoverable until the lifecycle rule,
which keeps noncurrent versions at least the policy minimum, expires them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from include.dr.aws_clients import hook_clients
from include.dr.retention import Backup
from include.dr.tags import COMPLETED_KEY, as_mapping, is_ours, is_verified


class RdsDumpInventory:
    def __init__(self, s3: Any, bucket: str, instance: str) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = f"rds/{instance}/"

    @classmethod
    def open(
        cls, *, instance: str, bucket: str, aws_conn_id: str, region_name: str
    ) -> RdsDumpInventory:
        return cls(hook_clients(aws_conn_id)("s3", region_name), bucket, instance)

    def _objects(self, prefix: str) -> list[dict[str, Any]]:
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return [item for page in pages for item in page.get("Contents", [])]

    def list_backups(self) -> list[Backup]:
        folders: dict[str, list[dict[str, Any]]] = {}
        for item in self._objects(self.prefix):
            folder = item["Key"].rsplit("/", 1)[0] + "/"
            folders.setdefault(folder, []).append(item)
        backups = []
        for folder, items in folders.items():
            dumps = [item for item in items if item["Key"].endswith(".sql.gz")]
            tags = (
                as_mapping(
                    self.s3.get_object_tagging(Bucket=self.bucket, Key=dumps[0]["Key"])["TagSet"]
                )
                if dumps
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
                    finished=bool(dumps),
                    verified=is_verified(tags),
                    ours=is_ours(tags),
                    state="complete" if dumps else "no dump",
                )
            )
        return backups

    def delete(self, backup_id: str) -> bool:
        items = self._objects(backup_id)
        if not items:
            return False
        self.s3.delete_objects(
            Bucket=self.bucket,
            Delete={"Objects": [{"Key": item["Key"]} for item in items], "Quiet": True},
        )
        return True
