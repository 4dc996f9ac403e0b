"""Streamed, sorted listings of one partition, of the source and of the DR bucket."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any

from include.dr.s3.diff import DrObject, SourceObject
from include.dr.s3.partitions import Partition

# Run manifests live in the DR bucket under this prefix; they are not backed-up data.
RESERVED_PREFIX = ".backup/"


def folders(s3: Any, bucket: str, scope: str) -> set[str]:
    """The top-level "folders" directly under ``scope``."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=scope, Delimiter="/")
    found = {p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])}
    return {folder for folder in found if not folder.startswith(RESERVED_PREFIX)}


def source_objects(s3: Any, bucket: str, partition: Partition) -> Iterator[SourceObject]:
    def objects(prefix: str, delimiter: str | None) -> Iterator[SourceObject]:
        arguments = {"Bucket": bucket, "Prefix": prefix} | (
            {"Delimiter": delimiter} if delimiter else {}
        )
        for page in s3.get_paginator("list_objects_v2").paginate(**arguments):
            for item in page.get("Contents", []):
                yield SourceObject(
                    item["Key"], int(item["Size"]), item["LastModified"], item.get("ETag", "")
                )

    return _merged(partition, objects)


def dr_objects(s3: Any, bucket: str, partition: Partition) -> Iterator[DrObject]:
    """The current objects (a key whose newest version is a delete marker is not listed),
    skipping the reserved manifest prefix. Version ids are not listed: listing versions
    costs far more, and a restore finds the version current at a backup's time itself."""

    def objects(prefix: str, delimiter: str | None) -> Iterator[DrObject]:
        arguments = {"Bucket": bucket, "Prefix": prefix} | (
            {"Delimiter": delimiter} if delimiter else {}
        )
        for page in s3.get_paginator("list_objects_v2").paginate(**arguments):
            for item in page.get("Contents", []):
                if not item["Key"].startswith(RESERVED_PREFIX):
                    yield DrObject(item["Key"], int(item["Size"]), item["LastModified"])

    return _merged(partition, objects)


def _merged(partition: Partition, objects: Any) -> Iterator[Any]:
    streams = [objects(folder, None) for folder in partition.folders]
    if partition.root:
        streams.append(objects(partition.scope, "/"))
    return heapq.merge(*streams, key=lambda item: item.key)
