"""Splitting a bucket into a bounded number of partitions, one mapped task each.

A partition is a scope prefix (the whole bucket, or one of the policy's
prefixes) and a contiguous run of its top-level "folders"; the first partition
of a scope also takes the objects that sit directly in it. Listing a partition
never reads another partition's keys, and no list of objects ever reaches XCom:
only these few prefixes do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from include.dr.errors import Permanent


class NoPartitions(Permanent, ValueError):
    """A bucket was to be split into fewer than one partition."""


@dataclass(frozen=True)
class Partition:
    scope: str
    folders: tuple[str, ...] = field(default_factory=tuple)
    root: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def split(scope: str, folders: Iterable[str], max_parts: int) -> list[Partition]:
    """At most ``max_parts`` partitions covering every key under ``scope``."""
    if max_parts < 1:
        raise NoPartitions("max_parts must be at least 1")
    ordered = sorted(set(folders))
    if not ordered:
        return [Partition(scope, (), True)]
    parts = min(max_parts, len(ordered))
    size, extra = divmod(len(ordered), parts)
    result, start = [], 0
    for index in range(parts):
        end = start + size + (1 if index < extra else 0)
        result.append(Partition(scope, tuple(ordered[start:end]), index == 0))
        start = end
    return result
