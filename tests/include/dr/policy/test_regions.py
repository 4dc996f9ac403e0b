"""The region-to-country table and the residency verdict."""

from __future__ import annotations

import pytest

from include.dr.policy.regions import REGION_COUNTRY, country_of, judge_residency


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


def test_cross_border_statement_carries_the_reason() -> None:
    verdict = judge_residency("eu-west-2", "eu-west-1", "no second UK region exists")
    assert (verdict.production_country, verdict.dr_country) == ("GB", "IE")
    assert verdict.statement.endswith("no second UK region exists")


def test_unknown_region_is_not_guessed() -> None:
    with pytest.raises(KeyError):
        country_of("eu-west-9")
