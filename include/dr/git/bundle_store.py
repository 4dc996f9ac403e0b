"""The git bundles of record, in the DR bucket, with this worker's cache in front.

The bundle of record is the copy the backup uploaded to the DR bucket
(``<asset>/<day>/bundle.enc`` and its sidecar ``bundle.json``). The copy the backup
wrote on its worker's disk is only a cache: another worker, a new pod or a wiped disk
has none. So the days a repository can be restored from are listed in the DR bucket,
and a bundle is read from the cache only when its SHA-256 equals the sidecar of record;
otherwise it is downloaded again (to a hidden partial file, checked, then renamed), so
a half-written or altered cache file is never trusted.

Without a DR bucket (unit tests of the steps), the cache is the only copy and is read
as it is.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from include.dr.asset_names import dated_prefix, git_asset, git_organisation_asset
from include.dr.errors import Permanent, is_not_found
from include.dr.git.bundle import BundleRecord, bundle_path, file_sha256, sidecar_path

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client

BUNDLE_NAME = "bundle.enc"
SIDECAR_NAME = "bundle.json"


class BundleMissing(Permanent, FileNotFoundError):
    """The bundle of record for a day is not in the DR bucket (or does not match its
    sidecar): nothing can be restored from it."""


class BundleStore:
    """Where a repository's dated bundles are listed, described and read from."""

    def __init__(self, cache: Path, s3: S3Client | None = None, bucket: str | None = None) -> None:
        self.cache = cache
        self.s3 = s3 if bucket else None
        self.bucket = bucket

    def days(self, organisation: str, repository: str) -> list[str]:
        """Days with a finished (sidecar written) bundle of record, oldest first."""
        if self.s3 is None:
            folder = self.cache / organisation / repository
            return sorted(p.stem for p in folder.glob("*.json")) if folder.exists() else []
        prefix = f"{git_asset(organisation, repository)}/"
        return sorted(
            key.removeprefix(prefix).split("/", 1)[0]
            for key in self._keys(prefix)
            if key.endswith(f"/{SIDECAR_NAME}") and key.count("/") == prefix.count("/") + 1
        )

    def repositories(self, organisation: str) -> list[str]:
        """Repositories of ``organisation`` with at least one bundle of record."""
        if self.s3 is None:
            folder = self.cache / organisation
            if not folder.exists():
                return []
            return sorted(p.name for p in folder.iterdir() if any(p.glob("*.json")))
        prefix = f"{git_organisation_asset(organisation)}/"
        return sorted(
            {
                key.removeprefix(prefix).split("/", 1)[0]
                for key in self._keys(prefix)
                if key.endswith(f"/{SIDECAR_NAME}")
            }
        )

    def record(self, organisation: str, repository: str, day: str) -> BundleRecord:
        """The bundle's sidecar of record: its digest, size and refs."""
        if self.s3 is None:
            return BundleRecord.read(sidecar_path(self._cached(organisation, repository, day)))
        key = dated_prefix(git_asset(organisation, repository), day) + SIDECAR_NAME
        try:
            body = self.s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if is_not_found(exc):
                raise BundleMissing(self._missing(organisation, repository, day)) from exc
            raise
        return BundleRecord(**json.loads(body))

    def path(self, organisation: str, repository: str, day: str, *, fetch: bool = False) -> Path:
        """The bundle as a local file: the cached copy when it is the bundle of record,
        else a fresh download of it. ``fetch`` always downloads: the restore test proves
        the DR copy itself, which is all a disaster leaves."""
        cached = self._cached(organisation, repository, day)
        if self.s3 is None:
            return cached
        record = self.record(organisation, repository, day)
        if not fetch and cached.exists() and file_sha256(cached) == record.sha256:
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = cached.with_name(f".{cached.name}.download-{uuid.uuid4().hex[:8]}")
        key = dated_prefix(git_asset(organisation, repository), day) + BUNDLE_NAME
        try:
            try:
                self.s3.download_file(self._bucket, key, str(partial))
            except ClientError as exc:
                if is_not_found(exc) or exc.response["Error"]["Code"] == "404":
                    raise BundleMissing(self._missing(organisation, repository, day)) from exc
                raise
            if file_sha256(partial) != record.sha256:
                raise BundleMissing(
                    f"s3://{self.bucket}/{key} does not match its sidecar's sha256 "
                    f"{record.sha256}: it was altered or replaced. Choose another day, and "
                    "compare the object's versions in the DR bucket."
                )
            partial.replace(cached)
            sidecar_path(cached).write_text(json.dumps(asdict(record), indent=2, sort_keys=True))
        finally:
            partial.unlink(missing_ok=True)
        return cached

    def prune_cache(self, organisation: str, repository: str, keep: str) -> list[str]:
        """Remove this worker's cached bundles of a repository other than day ``keep``, once
        ``keep`` is a bundle of record; the days removed. The DR copies are never touched,
        nor a bundle the cache holds but the DR bucket does not (it may be the only copy)."""
        if self.s3 is None:
            return []
        days = set(self.days(organisation, repository))
        if keep not in days:
            return []
        removed = []
        for sidecar in sorted((self.cache / organisation / repository).glob("*.json")):
            day = sidecar.stem
            if day != keep and day in days:
                sidecar.unlink()  # first: a cached bundle without its sidecar is never read
                bundle_path(self.cache, organisation, repository, day).unlink(missing_ok=True)
                removed.append(day)
        return removed

    @property
    def _bucket(self) -> str:
        assert self.bucket is not None
        return self.bucket

    def _cached(self, organisation: str, repository: str, day: str) -> Path:
        return bundle_path(self.cache, organisation, repository, day)

    def _keys(self, prefix: str) -> list[str]:
        assert self.s3 is not None
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self._bucket, Prefix=prefix
        )
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def _missing(self, organisation: str, repository: str, day: str) -> str:
        return (
            f"no bundle of {organisation}/{repository} from {day} in s3://{self.bucket}; "
            f"choose one of: {', '.join(self.days(organisation, repository)[-14:]) or 'none'}"
        )
