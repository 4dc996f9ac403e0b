"""The form's answer re-checked on the server: refusals name the field and the fix."""

from __future__ import annotations

from datetime import date

import pytest

from include.dr.evidence_pack.controls import CLAUSE_IDS
from include.dr.evidence_pack.request import PackRefused, validate_request

TODAY = date(2026, 11, 30)


def test_empty_fields_mean_the_last_30_days_and_every_clause() -> None:
    assert validate_request({}, TODAY) == {
        "start": "2026-11-01",
        "end": "2026-11-30",
        "clauses": list(CLAUSE_IDS),
    }


@pytest.mark.parametrize(
    ("params", "field", "fix"),
    [
        ({"period_start": "2026-11-20", "period_end": "2026-11-10"}, "period_end", "swap"),
        ({"period_end": "2026-12-01"}, "period_end", "or earlier"),
        ({"period_start": "20 Nov"}, "period_start", "YYYY-MM-DD"),
        ({"period_start": "2020-01-01"}, "period_start", "one pack per year"),
        ({"clauses": ["freshness", "../../etc"]}, "clauses", "Choose among"),
        ({"clauses": "freshness"}, "clauses", "Pick clauses"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(params: dict, field: str, fix: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(PackRefused, match=fix) as refused:
        validate_request(params, TODAY)
    assert refused.value.field == field and str(refused.value).startswith(field)


def test_clauses_keep_the_evaluations_order() -> None:
    chosen = validate_request({"clauses": ["tamper", "freshness"]}, TODAY)["clauses"]
    assert chosen == ["freshness", "tamper"]
