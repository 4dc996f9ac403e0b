"""Partitions are bounded, cover every folder once, and take the root objects once."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from include.dr.s3.partitions import split


@given(
    st.lists(st.text(min_size=1, max_size=5).map(lambda s: s + "/"), max_size=50), st.integers(1, 8)
)
def test_partitions_are_bounded_and_cover_each_folder_once(folders: list[str], most: int) -> None:
    parts = split("", folders, most)
    assert 1 <= len(parts) <= most
    covered = [folder for part in parts for folder in part.folders]
    assert covered == sorted(set(folders))
    assert sum(part.root for part in parts) == 1


def test_an_empty_scope_is_one_partition_of_its_root() -> None:
    [part] = split("exports/", [], 8)
    assert part.root and part.scope == "exports/" and part.folders == ()
