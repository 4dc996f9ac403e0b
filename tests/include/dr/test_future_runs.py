"""Runs dated ahead of the clock are refused, at trigger time and again at the gate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from include.dr.future_runs import FUTURE_TOLERANCE, future_run_refusal
from include.dr.timetables import BackupWindowTimetable, FutureRunRefused

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@given(st.integers(-400 * 1440, int(FUTURE_TOLERANCE.total_seconds() // 60)))
def test_a_run_dated_now_or_earlier_may_run(minutes: int) -> None:
    assert future_run_refusal(NOW + timedelta(minutes=minutes), NOW) is None


@given(st.integers(int(FUTURE_TOLERANCE.total_seconds() // 60) + 1, 400 * 1440))
def test_a_run_dated_ahead_is_refused_saying_what_to_do(minutes: int) -> None:
    refusal = future_run_refusal(NOW + timedelta(minutes=minutes), NOW)
    assert refusal is not None
    assert "in the future" in refusal and "override_window" in refusal
    assert "Trigger it again with no logical date" in refusal


def timetable() -> BackupWindowTimetable:
    return BackupWindowTimetable("0 1 * * *", timezone="Europe/London")


def test_the_timetable_refuses_a_manual_run_thirty_days_ahead() -> None:
    ahead = pendulum.now("UTC").add(days=30)
    with pytest.raises(FutureRunRefused, match="is in the future") as refused:
        timetable().infer_manual_data_interval(run_after=ahead)
    assert isinstance(refused.value, ValueError)  # the REST API answers a ValueError with a 400


def test_the_timetable_accepts_a_manual_run_dated_now_or_in_the_past() -> None:
    for moment in (pendulum.now("UTC"), pendulum.datetime(2026, 1, 2, 12)):
        interval = timetable().infer_manual_data_interval(run_after=moment)
        assert interval.end == moment


def test_the_timetable_survives_serialization_through_its_plugin() -> None:
    from airflow.serialization.decoders import decode_timetable
    from airflow.serialization.encoders import encode_timetable

    decoded = decode_timetable(encode_timetable(timetable()))
    assert isinstance(decoded, BackupWindowTimetable)
    assert decoded.serialize() == timetable().serialize()
    with pytest.raises(FutureRunRefused):
        decoded.infer_manual_data_interval(run_after=pendulum.now("UTC").add(days=2))
