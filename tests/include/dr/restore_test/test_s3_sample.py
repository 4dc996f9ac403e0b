"""The restore test's S3 sample: a stable share of the keys, never too small, always the
largest object."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from include.dr.restore_test.s3_sample import draw_sample
from include.dr.s3.restore import RestoreObject

objects = st.lists(
    st.builds(
        RestoreObject,
        key=st.text("abcdefgh/", min_size=1, max_size=12),
        size=st.integers(0, 10_000),
        version_id=st.just("v"),
        sha256=st.none(),
    ),
    max_size=300,
    unique_by=lambda o: o.key,
)


@settings(max_examples=200, deadline=None)
@given(objects, st.floats(0.01, 100), st.integers(1, 50))
def test_the_sample_is_big_enough_and_holds_the_largest(
    found: list[RestoreObject], percent: float, minimum: int
) -> None:
    sample = draw_sample(iter(found), percent, minimum)
    keys = [o.key for o in sample]
    assert len(keys) == len(set(keys)) and keys == sorted(keys)
    assert len(sample) >= min(minimum, len(found))
    assert len(sample) <= len(found)
    if found:
        largest = max(o.size for o in found)
        assert any(o.size == largest for o in sample)


@given(objects, st.floats(0.01, 100), st.integers(1, 50))
def test_the_same_keys_are_drawn_whatever_the_listing_order(
    found: list[RestoreObject], percent: float, minimum: int
) -> None:
    """So a year-on-year difference in the sample means the data changed, not the draw."""
    distinct = [RestoreObject(o.key, index, "v", None) for index, o in enumerate(found)]
    forward = {o.key for o in draw_sample(iter(distinct), percent, minimum)}
    backward = {o.key for o in draw_sample(iter(reversed(distinct)), percent, minimum)}
    assert forward == backward
