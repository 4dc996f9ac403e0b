"""A partition's listing, read ahead and chained folder by folder, is S3's key order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from include.dr.s3.listing import dr_objects, folders, source_objects
from include.dr.s3.partitions import split

T0 = datetime(2026, 11, 30, tzinfo=UTC)


class FakeS3:
    """``list_objects_v2`` as S3 answers it: sorted by UTF-8 bytes, ``Delimiter`` folding
    keys into common prefixes, pages of ``page`` entries."""

    def __init__(self, keys: list[str], page: int = 3) -> None:
        self.keys, self.page = sorted(keys, key=lambda k: k.encode()), page

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, **arguments: Any) -> Iterator[Any]:
        while True:
            page = self.list_objects_v2(**arguments)
            yield page
            if not page["IsTruncated"]:
                return
            arguments["ContinuationToken"] = page["NextContinuationToken"]

    def list_objects_v2(  # noqa: N803 - S3's parameter names
        self, Bucket: str, Prefix: str = "", Delimiter: str = "", ContinuationToken: str = "0"
    ) -> dict[str, Any]:
        entries: list[tuple[str, bool]] = []
        for key in self.keys:
            if not key.startswith(Prefix):
                continue
            rest = key[len(Prefix) :]
            if Delimiter and Delimiter in rest:
                folder = Prefix + rest.split(Delimiter, 1)[0] + Delimiter
                if not entries or entries[-1] != (folder, True):
                    entries.append((folder, True))
            else:
                entries.append((key, False))
        start = int(ContinuationToken)
        chunk = entries[start : start + self.page]
        more = start + self.page < len(entries)
        return {
            "Contents": [
                {"Key": k, "Size": 1, "LastModified": T0, "ETag": '"e"'}
                for k, folder in chunk
                if not folder
            ],
            "CommonPrefixes": [{"Prefix": k} for k, folder in chunk if folder],
            "IsTruncated": more,
            **({"NextContinuationToken": str(start + self.page)} if more else {}),
        }


names = st.text(alphabet="ab-./_é", min_size=1, max_size=4)


@settings(max_examples=300)
@given(
    st.lists(names, unique=True, max_size=40), st.sampled_from(["", "a/", "b-"]), st.integers(1, 4)
)
def test_each_partition_lists_its_keys_once_in_s3_order(
    keys: list[str], scope: str, parts: int
) -> None:
    s3 = FakeS3(keys)
    found = folders(s3, "bucket", scope)
    listed_source, listed_dr = [], []
    for part in split(scope, found, parts):
        source = [o.key for o in source_objects(s3, "bucket", part)]
        dr = [o.key for o in dr_objects(s3, "bucket", part)]
        assert source == sorted(source, key=str.encode) == dr
        listed_source += source
        listed_dr += dr
    in_scope = sorted((k for k in keys if k.startswith(scope)), key=str.encode)
    assert sorted(listed_source, key=str.encode) == in_scope
    assert sorted(listed_dr, key=str.encode) == [
        k for k in in_scope if not k.startswith(".backup/")
    ]
