"""The trigger form's answer, checked again on the server: a period and the clauses.

Refusals name the field and the fix, before anything is read or written (a run's
configuration can bypass the form's schema, and a schema cannot compare two dates).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any, NoReturn, TypedDict

from include.dr.errors import Permanent
from include.dr.evidence_pack.controls import CLAUSE_IDS

DEFAULT_DAYS = 30
LONGEST_DAYS = 366 * 3


class PackRequest(TypedDict):
    """A checked request: the period's first and last day (ISO dates, in the policy's time
    zone, both inclusive) and the clause ids, in the evaluation's order."""

    start: str
    end: str
    clauses: list[str]


class PackRefused(Permanent, ValueError):
    def __init__(self, field: str, problem: str, fix: str) -> None:
        super().__init__(f"{field}: {problem}. {fix}")
        self.field = field


def _refuse(field: str, problem: str, fix: str) -> NoReturn:
    raise PackRefused(field, problem, fix)


def _day(field: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        _refuse(field, f"{value!r} is not a date", "Write it as YYYY-MM-DD, e.g. 2026-11-01")


def validate_request(params: Mapping[str, Any], today: date) -> PackRequest:
    """The request, or :class:`PackRefused` naming the field. An empty end is ``today``
    (the run's logical day); an empty start is 30 days before the end."""
    end = _day("period_end", params.get("period_end")) or today
    start = _day("period_start", params.get("period_start")) or end - timedelta(
        days=DEFAULT_DAYS - 1
    )
    if end < start:
        _refuse(
            "period_end",
            f"{end} is before the period's start {start}",
            "Give an end on or after the start, or swap the two dates",
        )
    if end > today:
        _refuse(
            "period_end",
            f"{end} is after the run's day {today}: no evidence exists yet",
            f"Give {today} or earlier, or leave it empty",
        )
    if (end - start).days + 1 > LONGEST_DAYS:
        _refuse(
            "period_start",
            f"the period is {(end - start).days + 1} days long",
            f"Ask for at most {LONGEST_DAYS} days in one pack; make one pack per year",
        )
    chosen = params.get("clauses")
    if chosen in (None, []):
        chosen = list(CLAUSE_IDS)
    if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
        _refuse("clauses", f"{chosen!r} is not a list of clause ids", "Pick clauses in the form")
    unknown = sorted(set(chosen) - set(CLAUSE_IDS))
    if unknown:
        _refuse(
            "clauses",
            f"{', '.join(unknown)} is not a clause of the policy",
            f"Choose among {', '.join(CLAUSE_IDS)}",
        )
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "clauses": [c for c in CLAUSE_IDS if c in chosen],
    }
