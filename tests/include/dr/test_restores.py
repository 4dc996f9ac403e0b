"""What every restore shares: refusals by field, the restore errors' class, instants from a
form, and the evidence record of a restore step."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from include.dr.errors import Permanent
from include.dr.evidence import evidence_store
from include.dr.restores import (
    BackupDamaged,
    RestoreIncomplete,
    RestoreRefused,
    parse_instant,
    record_restore,
    refuse,
)
from include.dr.run_info import RunInfo

NOW = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)


@pytest.mark.parametrize("error", [RestoreRefused, RestoreIncomplete, BackupDamaged])
def test_every_restore_error_is_permanent_and_free_of_airflow(error: type[Exception]) -> None:
    assert issubclass(error, Permanent)
    assert not any(c.__module__.startswith("airflow") for c in error.__mro__)


def test_a_refusal_names_the_field_the_problem_and_the_fix() -> None:
    with pytest.raises(RestoreRefused) as refused:
        refuse("target_bucket", "swl-uploads is a production bucket", "Choose a scratch bucket.")
    assert refused.value.field == "target_bucket"
    assert str(refused.value) == (
        "target_bucket: swl-uploads is a production bucket. Choose a scratch bucket. "
        "Nothing was changed."
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-26T18:00:00Z", datetime(2026, 11, 26, 18, tzinfo=UTC)),
        ("2026-11-26T18:00:00", datetime(2026, 11, 26, 18, tzinfo=UTC)),  # the picker's UTC
        (" 2026-11-26T19:00:00+01:00 ", datetime(2026, 11, 26, 18, tzinfo=UTC)),
    ],
)
def test_an_instant_from_a_form(value: str, expected: datetime) -> None:
    assert parse_instant("restore_time", value, NOW) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [("yesterday", "is not a date and time"), (None, "is not a date and time"),
     ("2026-11-27T00:00:00Z", "is in the future")],
)  # fmt: skip
def test_an_instant_that_is_not_a_past_time_is_refused(value: object, problem: str) -> None:
    with pytest.raises(RestoreRefused, match=problem) as refused:
        parse_instant("restore_time", value, NOW)
    assert refused.value.field == "restore_time"


def test_a_restore_step_is_recorded_with_who_triggered_it() -> None:
    run = RunInfo("restore_rds", f"manual__{NOW.timestamp()}", NOW, triggered_by="alice")
    record_restore(run, "rds/swl-customers-prod", "fail", {"refused": "source"})
    record = evidence_store().get("restore", "rds/swl-customers-prod", "restore_rds", run.run_id)
    assert record is not None and record.outcome == "fail"
    assert record.details == {"triggered_by": "alice", "refused": "source"}
