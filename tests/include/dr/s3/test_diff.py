"""The incremental copy plan over generated listings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from include.dr.s3.diff import DrObject, SourceObject, plan_copies

T0 = datetime(2026, 11, 27, 1, tzinfo=UTC)
keys = st.lists(st.text(alphabet="abc/é0.-", min_size=1, max_size=6), unique=True, max_size=40)


@st.composite
def listings(draw: st.DrawFn) -> tuple[list[SourceObject], list[DrObject]]:
    source_keys, dr_keys = draw(keys), draw(keys)
    source = [
        SourceObject(k, draw(st.integers(0, 3)), T0 + timedelta(minutes=draw(st.integers(0, 5))))
        for k in sorted(source_keys)
    ]
    dr = [
        DrObject(k, draw(st.integers(0, 3)), T0 + timedelta(minutes=draw(st.integers(0, 5))))
        for k in sorted(dr_keys)
    ]
    return source, dr


@settings(max_examples=500)
@given(listings())
def test_every_key_gets_exactly_one_step_and_nothing_is_deleted(
    pair: tuple[list[SourceObject], list[DrObject]],
) -> None:
    source, dr = pair
    steps = list(plan_copies(source, dr))
    assert [s.key for s in steps] == sorted({o.key for o in source} | {o.key for o in dr})
    source_keys = {o.key for o in source}
    for step in steps:
        assert step.action in {"copy", "unchanged", "deleted_at_source"}
        assert (step.action == "deleted_at_source") == (step.key not in source_keys)


@settings(max_examples=500)
@given(listings())
def test_after_copying_the_plan_a_rerun_copies_nothing(
    pair: tuple[list[SourceObject], list[DrObject]],
) -> None:
    source, dr = pair
    copied_at = T0 + timedelta(hours=1)
    after = {o.key: o for o in dr}
    for step in plan_copies(source, dr):
        if step.action == "copy" and step.source:
            after[step.key] = DrObject(step.key, step.source.size, copied_at)
    rerun = plan_copies(source, [after[k] for k in sorted(after)])
    assert [s.key for s in rerun if s.action == "copy"] == []


def test_changed_objects_are_copied_with_the_reason() -> None:
    source = [
        SourceObject("a", 1, T0),
        SourceObject("b", 2, T0 + timedelta(hours=2)),
        SourceObject("c", 5, T0),
    ]
    dr = [
        DrObject("a", 1, T0 + timedelta(hours=1)),
        DrObject("b", 2, T0 + timedelta(hours=1)),
        DrObject("c", 4, T0 + timedelta(hours=1)),
    ]
    reasons = {s.key: (s.action, s.reason) for s in plan_copies(source, dr)}
    assert reasons["a"][0] == "unchanged"
    assert reasons["b"] == ("copy", "modified at the source after the last copy")
    assert reasons["c"] == ("copy", "size changed (4 -> 5)")


def test_unsorted_listings_are_refused() -> None:
    with pytest.raises(ValueError, match="not sorted"):
        list(plan_copies([SourceObject("b", 1, T0), SourceObject("a", 1, T0)], []))
