"""What an incremental backup run must copy: a streamed merge of two sorted listings.

S3 lists keys in ascending UTF-8 byte order, which is Python's order for ``str``,
so the source listing and the DR bucket's current objects can be merged in one
pass, holding one object of each at a time: memory stays flat whatever the
bucket's size.

An object is copied when it is new, when its size differs, or when the source
was modified after the DR copy was made (the rule ``aws s3 sync`` uses). ETags
are not compared: with SSE-KMS, and across multipart boundaries, equal content
does not give equal ETags. A key that is gone from the source is reported as
deleted at the source and its DR copy is left alone: a deletion at the source
never destroys the backup.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from include.dr.errors import Permanent

Action = Literal["copy", "unchanged", "deleted_at_source"]


class UnsortedListing(Permanent, ValueError):
    """A listing is not in S3's key order, so the merge cannot be trusted."""


@dataclass(frozen=True, slots=True)
class SourceObject:
    key: str
    size: int
    last_modified: datetime
    etag: str = ""


@dataclass(frozen=True, slots=True)
class DrObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    key: str
    reason: str
    source: SourceObject | None = None
    dr: DrObject | None = None


def plan_copies(source: Iterable[SourceObject], dr: Iterable[DrObject]) -> Iterator[Step]:
    """One step per key of either listing, in key order; both must be sorted by key."""
    sources, copies = iter(source), iter(dr)
    src, dst = next(sources, None), next(copies, None)
    previous = ""
    while src is not None or dst is not None:
        if src is not None and (dst is None or src.key < dst.key):
            step = Step("copy", src.key, "new at the source", src, None)
            src = next(sources, None)
        elif dst is not None and (src is None or dst.key < src.key):
            step = Step(
                "deleted_at_source", dst.key, "gone from the source; DR copy kept", None, dst
            )
            dst = next(copies, None)
        else:
            assert src is not None and dst is not None
            step = _compare(src, dst)
            src, dst = next(sources, None), next(copies, None)
        if step.key < previous:
            raise UnsortedListing(
                f"listings are not sorted by key ({step.key!r} after {previous!r}); "
                "list them as S3 does, in ascending key order"
            )
        previous = step.key
        yield step


def _compare(src: SourceObject, dst: DrObject) -> Step:
    if src.size != dst.size:
        return Step("copy", src.key, f"size changed ({dst.size} -> {src.size})", src, dst)
    if src.last_modified > dst.last_modified:
        return Step("copy", src.key, "modified at the source after the last copy", src, dst)
    return Step("unchanged", src.key, "same size, not modified since the last copy", src, dst)
