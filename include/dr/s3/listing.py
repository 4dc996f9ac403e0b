"""Streamed, sorted listings of one partition, of the source and of the DR bucket.

Each listing is read ahead in a thread of its own (:mod:`.read_ahead`), so the
source and the DR bucket are listed at the same time while the merge consumes
them, holding a few pages of each, whatever the bucket's size. The listing
clients parse ``LastModified`` the quick way (:mod:`.timestamps`).

A partition's folders are read one after the other, in order: they are
prefix-free (each is the scope, a name without ``/``, then ``/``), so every key
under one folder sorts before every key under the next, and chaining them is
S3's key order. The next folder is already being listed while one is read, so
the server never waits on the client between them. Only the objects directly in
the scope interleave with the folders and are merged in.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, TypeVar

from include.dr.s3.diff import DrObject, SourceObject
from include.dr.s3.partitions import Partition
from include.dr.s3.read_ahead import read_ahead
from include.dr.s3.timestamps import quick_timestamps

# Run manifests live in the DR bucket under this prefix; they are not backed-up data.
RESERVED_PREFIX = ".backup/"
FOLDERS_AHEAD = 2  # a partition's folders listed at once, per bucket

T = TypeVar("T", SourceObject, DrObject)


def folders(s3: Any, bucket: str, scope: str) -> set[str]:
    """The top-level "folders" directly under ``scope``."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=scope, Delimiter="/")
    found = {p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])}
    return {folder for folder in found if not folder.startswith(RESERVED_PREFIX)}


def source_objects(s3: Any, bucket: str, partition: Partition) -> Iterator[SourceObject]:
    def listed(item: dict[str, Any]) -> SourceObject:
        return SourceObject(
            item["Key"], int(item["Size"]), item["LastModified"], item.get("ETag", "")
        )

    return _merged(partition, _lister(s3, bucket, listed), f"source-{bucket}")


def dr_objects(s3: Any, bucket: str, partition: Partition) -> Iterator[DrObject]:
    """The current objects (a key whose newest version is a delete marker is not listed),
    skipping the reserved manifest prefix. Version ids are not listed: listing versions
    costs far more, and a restore finds the version current at a backup's time itself."""

    def listed(item: dict[str, Any]) -> DrObject | None:
        if item["Key"].startswith(RESERVED_PREFIX):
            return None
        return DrObject(item["Key"], int(item["Size"]), item["LastModified"])

    return _merged(partition, _lister(s3, bucket, listed), f"dr-{bucket}")


def _lister(
    s3: Any, bucket: str, listed: Callable[[dict[str, Any]], T | None]
) -> Callable[[str, str | None], Iterator[list[T]]]:
    """Pages of ``listed`` objects under a prefix. Each page is converted as it arrives and
    botocore's own answer dropped, so a listing waiting on its reader holds only ours."""
    quick_timestamps(s3)

    def pages(prefix: str, delimiter: str | None) -> Iterator[list[T]]:
        arguments = {"Bucket": bucket, "Prefix": prefix} | (
            {"Delimiter": delimiter} if delimiter else {}
        )
        while True:
            page, token = _page(s3, arguments, listed)
            if page:
                yield page
            if token is None:
                return
            arguments["ContinuationToken"] = token

    return pages


def _page(
    s3: Any, arguments: dict[str, Any], listed: Callable[[dict[str, Any]], T | None]
) -> tuple[list[T], str | None]:
    answer = s3.list_objects_v2(**arguments)
    page = [obj for obj in map(listed, answer.get("Contents", [])) if obj is not None]
    return page, answer.get("NextContinuationToken") if answer.get("IsTruncated") else None


def _merged(
    partition: Partition, pages: Callable[[str, str | None], Iterator[list[T]]], name: str
) -> Iterator[T]:
    """Every object of the partition in key order; the listings start at once."""
    streams = (pages(folder, None) for folder in sorted(partition.folders))
    in_folders = _one_after_another(streams, name)
    if not partition.root:
        return in_folders
    root = read_ahead(pages(partition.scope, "/"), name=name)
    return heapq.merge(root, in_folders, key=lambda item: item.key)


def _one_after_another(streams: Iterator[Iterator[list[T]]], name: str) -> Iterator[T]:
    """The streams' objects in turn, each read ahead in its own thread, the next
    ``FOLDERS_AHEAD - 1`` already listing while one is read (no pause between folders)."""
    started = deque(read_ahead(s, name=name) for s in islice(streams, FOLDERS_AHEAD))

    def read() -> Iterator[T]:
        try:
            while started:
                yield from started[0]
                started.popleft()
                following = next(streams, None)
                if following is not None:
                    started.append(read_ahead(following, name=name))
        finally:
            for reader in started:  # stopped early: stop the listings under way
                reader.close()  # type: ignore[attr-defined]

    return read()
