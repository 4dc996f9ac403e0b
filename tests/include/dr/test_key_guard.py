"""The DR key's guard, judged purely: only an unconditional Deny that takes in every
principal of the production account counts, for each destructive action."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from include.dr.infra.files import committed_templates
from include.dr.key_guard import DESTRUCTIVE_ACTIONS, guard_statement, unguarded

PRODUCTION = "123456789012"


def document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_the_guard_denies_every_destructive_action_to_the_production_account() -> None:
    guard = guard_statement(f"arn:aws:iam::{PRODUCTION}:root")
    assert unguarded(document(guard), PRODUCTION) == []
    assert unguarded(document(guard), "999999999999") == list(DESTRUCTIVE_ACTIONS)


@given(dropped=st.sets(st.sampled_from(DESTRUCTIVE_ACTIONS), min_size=1))
def test_an_action_left_out_of_the_deny_is_named(dropped: set[str]) -> None:
    guard = guard_statement(PRODUCTION)
    guard["Action"] = [a for a in DESTRUCTIVE_ACTIONS if a not in dropped]
    assert set(unguarded(document(guard), PRODUCTION)) == dropped


def test_allows_conditions_and_other_principals_guard_nothing() -> None:
    allow = {**guard_statement(PRODUCTION), "Effect": "Allow"}
    conditional = {
        **guard_statement(PRODUCTION),
        "Condition": {"Bool": {"aws:MultiFactor": "false"}},
    }
    one_role = guard_statement(f"arn:aws:iam::{PRODUCTION}:role/backup-production-reader")
    for statement in (allow, conditional, one_role):
        assert unguarded(document(statement), PRODUCTION) == list(DESTRUCTIVE_ACTIONS)
    everyone = {**guard_statement("*"), "Principal": "*", "Action": "kms:*"}
    assert unguarded(document(everyone), PRODUCTION) == []


def test_the_dr_template_writes_the_guard_for_its_production_account_parameter() -> None:
    template = committed_templates()["dr"]
    assert "ProductionAccountId" in template["Parameters"]
    policy = template["Resources"]["DrKey"]["Properties"]["KeyPolicy"]["Fn::Sub"]
    resolved = json.loads(
        policy.replace("${ProductionAccountId}", PRODUCTION)
        .replace("${AWS::Partition}", "aws")
        .replace("${AWS::AccountId}", "210987654321")
    )
    assert unguarded(resolved, PRODUCTION) == []
