"""The region-to-country table and the residency verdict."""

from __future__ import annotations

from datetime import date

import pytest

from include.dr.policy.regions import (
    REGION_COUNTRY,
    ResidencyApproval,
    country_of,
    judge_residency,
)

UK_TO_IRELAND = ResidencyApproval(
    "eu-west-2", "eu-west-1", "no second UK region exists", "Compliance Team", date(2026, 11, 27)
)


def test_every_region_has_a_two_letter_country() -> None:
    assert all(len(code) == 2 and code.isupper() for code in REGION_COUNTRY.values())


def test_the_uk_has_a_single_region() -> None:
    assert [region for region, country in REGION_COUNTRY.items() if country == "GB"] == [
        "eu-west-2"
    ]


def test_same_country_pair_needs_no_exception() -> None:
    verdict = judge_residency("eu-central-1", "eu-central-2", None)
    assert not verdict.same_country  # Frankfurt and Zurich are in different countries
    verdict = judge_residency("us-east-1", "us-west-2", None)
    assert verdict.same_country
    assert "inside one country" in verdict.statement


def test_cross_border_statement_carries_the_reason_and_the_approval() -> None:
    verdict = judge_residency("eu-west-2", "eu-west-1", UK_TO_IRELAND)
    assert (verdict.production_country, verdict.dr_country) == ("GB", "IE")
    assert verdict.holds and verdict.problem is None and verdict.fix == ""
    assert "approved by Compliance Team on 2026-11-27" in verdict.statement
    assert verdict.statement.endswith("no second UK region exists")


@pytest.mark.parametrize(
    ("production", "dr", "undo"),
    [
        ("eu-west-2", "eu-west-3", "regions.dr back to eu-west-1"),
        ("eu-west-1", "eu-west-3", "regions.production back to eu-west-2"),
    ],
    ids=["the DR region moved", "both regions moved"],
)
def test_an_approval_covers_only_the_pair_it_was_given_for(
    production: str, dr: str, undo: str
) -> None:
    verdict = judge_residency(production, dr, UK_TO_IRELAND)
    assert not verdict.same_country and not verdict.holds
    assert verdict.problem == (
        f"the residency exception was approved for eu-west-2 -> eu-west-1, "
        f"but {production} -> {dr} is configured"
    )
    assert f"approve {production} -> {dr}" in verdict.fix and undo in verdict.fix
    assert "covers eu-west-2 -> eu-west-1 only" in verdict.statement
    assert "approved by Compliance Team on 2026-11-27" in verdict.statement
    assert verdict.as_dict()["approval"]["covers_configured_pair"] is False


def test_a_cross_border_pair_without_approval_does_not_hold() -> None:
    verdict = judge_residency("eu-west-2", "eu-west-1", None)
    assert not verdict.holds and "no residency exception" in (verdict.problem or "")


def test_unknown_region_is_not_guessed() -> None:
    with pytest.raises(KeyError):
        country_of("eu-west-9")
