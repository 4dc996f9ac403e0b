"""The shipped IAM policies against the recorded call inventory, evaluated offline.

moto's IAM enforcement (tests/integration/test_least_privilege.py) checks actions for
every service but resources for S3 only, and no conditions. These tests cover the rest
statically: every recorded call is allowed on its own resource, no statement is
superfluous, and nothing dangerous is granted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicy, PermissionResult

from include.dr.iam.actions import Grant
from include.dr.iam.calls import Call
from include.dr.iam.policies import NEVER_GRANTED, RDS_DELETES, documents, required
from include.dr.infra.files import committed_calls
from include.dr.local_stack.accounts import PRODUCTION_ACCOUNT as ACCOUNT
from include.dr.local_stack.settings import STORE_BUCKET
from include.dr.policy.loader import load_policy
from include.dr.tags import OWNER_KEY

POLICY = load_policy()
CALLS = committed_calls()
DOCUMENTS = documents(CALLS, POLICY, STORE_BUCKET, ACCOUNT)
REQUIRED = required(CALLS, POLICY, STORE_BUCKET, ACCOUNT)


def sample(resource: str) -> str:
    """A concrete resource a pattern stands for."""
    return resource if resource == "*" else resource.replace("*", "x1")


def denied(grants: Iterable[Grant], document: dict[str, Any]) -> list[Grant]:
    policy = IAMPolicy(json.dumps(document))
    return [
        g
        for g in sorted(grants)
        if policy.is_action_permitted(g.action, sample(g.resource)) != PermissionResult.PERMITTED
    ]


def statements() -> list[tuple[str, str, int]]:
    return [
        (principal, family, index)
        for principal, families in DOCUMENTS.items()
        for family, document in families.items()
        for index in range(len(document["Statement"]))
    ]


def test_the_inventory_covers_every_role_and_daily_family() -> None:
    families = {(c.principal, c.family) for c in CALLS}
    assert {"aws_default", "aws_dr", "aws_restore"} <= {p for p, _ in families}
    for dag in ("s3_backup", "rds_backup", "git_backup", "restore_test"):
        assert any(family == dag for _, family in families), dag


def test_every_recorded_call_is_allowed_by_its_familys_policy() -> None:
    refused = {
        (principal, family): denied(grants, DOCUMENTS[principal][family])
        for principal, families in REQUIRED.items()
        for family, grants in families.items()
    }
    assert {k: v for k, v in refused.items() if v} == {}


@pytest.mark.parametrize(("principal", "family", "index"), statements())
def test_removing_any_statement_refuses_some_recorded_call(
    principal: str, family: str, index: int
) -> None:
    document = DOCUMENTS[principal][family]
    fewer = {
        **document,
        "Statement": [s for i, s in enumerate(document["Statement"]) if i != index],
    }
    assert denied(REQUIRED[principal][family], fewer), (
        f"{document['Statement'][index]['Sid']} is needed by no recorded call"
    )


def test_nothing_dangerous_is_granted_and_rds_deletes_need_the_owner_tag() -> None:
    for families in DOCUMENTS.values():
        for document in families.values():
            for statement in document["Statement"]:
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                assert not NEVER_GRANTED.intersection(actions), statement["Sid"]
                assert all(a != "*" and not a.endswith(":*") for a in actions), statement["Sid"]
                if "s3:DeleteBucket" in actions:  # the restore test's scratch bucket only
                    assert statement["Resource"] == "arn:aws:s3:::restore-test-*"
                if RDS_DELETES.intersection(actions):
                    tag = statement["Condition"]["StringEquals"]
                    assert tag == {f"aws:ResourceTag/{OWNER_KEY}": "policy-backup"}


def test_the_daily_roles_cannot_write_production_data() -> None:
    """Only the restore operator writes into the policy's source buckets."""
    sources = [f"arn:aws:s3:::{asset.source}/x1" for asset in POLICY.assets.s3]
    for principal in ("aws_default", "aws_dr"):
        for family, document in DOCUMENTS.get(principal, {}).items():
            writes = [Grant("s3:PutObject", s) for s in sources]
            assert denied(writes, document) == writes, (principal, family)


def test_a_bucket_added_to_the_policy_file_is_granted_and_one_removed_is_not() -> None:
    calls = {Call("aws_dr", "s3", "PutObject", "eu-west-1", "{object_dr_bucket}/*", "s3_backup")}
    one = documents(calls, POLICY, STORE_BUCKET, ACCOUNT)["aws_dr"]["s3_backup"]
    fewer = POLICY.model_copy(
        update={"assets": POLICY.assets.model_copy(update={"s3": POLICY.assets.s3[:1]})}
    )
    other = documents(calls, fewer, STORE_BUCKET, ACCOUNT)["aws_dr"]["s3_backup"]
    dropped = f"arn:aws:s3:::{POLICY.assets.s3[1].dr_bucket}/*"
    assert dropped in json.dumps(one) and dropped not in json.dumps(other)


def test_what_an_rds_call_creates_it_may_tag_and_nothing_else() -> None:
    """RDS authorises tags given on create as rds:AddTagsToResource on the new resource."""
    region = POLICY.regions.dr
    instance = POLICY.assets.rds[0].instance
    restores = DOCUMENTS["aws_restore"]["restore_rds"]
    new = Grant("rds:AddTagsToResource", f"arn:aws:rds:{region}:{ACCOUNT}:db:restored-x1")
    production = Grant(
        "rds:AddTagsToResource",
        f"arn:aws:rds:{POLICY.regions.production}:{ACCOUNT}:db:{instance}",
    )
    assert denied([new, production], restores) == [production]


def test_a_condition_on_grants_sits_on_a_statement_of_grants_only() -> None:
    """kms:GrantIsForAWSResource is in CreateGrant's request alone: beside any other
    action it would refuse that action on AWS (moto evaluates no condition)."""
    for families in DOCUMENTS.values():
        for document in families.values():
            for statement in document["Statement"]:
                if "kms:GrantIsForAWSResource" in json.dumps(statement.get("Condition", {})):
                    assert statement["Action"] == ["kms:CreateGrant"], statement["Sid"]
