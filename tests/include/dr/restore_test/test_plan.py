"""The restore test's decisions, without a run: the native restore request from the plan,
the checks the plan makes due, whether the restored instance's data is validated, and
the scratch database's SQL."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from include.dr.errors import Permanent
from include.dr.policy.loader import load_policy
from include.dr.policy.model import RestoreTest, RestoreTestNetwork
from include.dr.restore_test import plan, steps
from include.dr.restore_test.plans import RdsTarget, RestoreTestPlan
from include.dr.restore_test.teardown import (
    NotScratch,
    create_database,
    drop_database,
    scratch_database_sql,
)


def rds(snapshot_id: str | None) -> RdsTarget:
    return {
        "instance": "db1",
        "database": "customers",
        "dr_bucket": "swl-dr",
        "dump_date": "2026-11-26",
        "dump_key": "rds/db1/2026-11-26/customers.sql.gz",
        "manifest_key": "rds/db1/2026-11-26/manifest.json",
        "snapshot_id": snapshot_id,
        "scratch_instance": "restore-test-abc",
    }


def make_plan(**parts: Any) -> RestoreTestPlan:
    return {
        "scratch_id": "abc",
        "started_at": "2026-11-27T02:00:00+00:00",
        "keep_scratch": False,
        "dr_region": "eu-west-1",
        "scratch_bucket": "restore-test-abc",
        "scratch_database": "restore_test_abc",
        "rds": [],
        "s3": [],
        "git": [],
        **parts,  # type: ignore[typeddict-item]
    }


def test_the_native_restore_takes_the_first_asset_with_a_dr_snapshot() -> None:
    settings = RestoreTest(interval_days=365)
    request = plan.native_restore_request(
        make_plan(rds=[rds(None), rds("db1-2026-11-26")]), "aws_dr", settings
    )
    assert request == {
        "source": "snapshot",
        "snapshot_id": "db1-2026-11-26",
        "target_instance": "restore-test-abc",
        "region": "eu-west-1",
        "aws_conn_id": "aws_dr",
        "instance_class": None,
        "subnet_group": None,
        "security_group_ids": [],
        "dry_run": False,
    }
    empty = make_plan(rds=[rds(None)])
    assert plan.native_restore_request(empty, "aws_dr", settings) == {"dry_run": True}


def test_the_temporary_instance_is_placed_and_sized_as_the_policy_says() -> None:
    settings = RestoreTest(
        interval_days=365,
        instance_class="db.t3.small",
        network=RestoreTestNetwork(
            subnet_group="dr-private", security_group_ids=("sg-0123456789abcdef0",)
        ),
    )
    request = plan.native_restore_request(
        make_plan(rds=[rds("db1-2026-11-26")]), "aws_dr", settings
    )
    assert (
        request["instance_class"],
        request["subnet_group"],
        request["security_group_ids"],
    ) == ("db.t3.small", "dr-private", ["sg-0123456789abcdef0"])


def test_the_checks_due_follow_the_plan() -> None:
    assert steps.due_checks(make_plan(rds=[rds(None)], git=[{}])) == {
        "rds": True,
        "rds_native": False,
        "s3": False,
        "git": True,
    }


def client(endpoint: str) -> Any:
    return SimpleNamespace(meta=SimpleNamespace(endpoint_url=endpoint))


def test_the_restored_instance_s_data_is_validated_on_aws_not_on_the_local_stack() -> None:
    policy = load_policy()
    assert steps.instance_validator(client("http://127.0.0.1:5000"), {}, policy) is None
    assert callable(
        steps.instance_validator(client("https://s3.eu-west-1.amazonaws.com"), {}, policy)
    )


class Cursor:
    def __init__(self) -> None:
        self.sql: list[str] = []

    def execute(self, sql: str) -> None:
        self.sql.append(sql)


def test_only_a_restore_test_s_scratch_database_is_made_or_dropped() -> None:
    cursor = Cursor()
    assert create_database(cursor, "restore_test_abc") == "created"
    assert drop_database(cursor, "restore_test_abc") == "dropped"
    assert cursor.sql == [
        "CREATE DATABASE `restore_test_abc`",
        "DROP DATABASE IF EXISTS `restore_test_abc`",
    ]
    for name in ("customers", "restore_testx`; DROP DATABASE customers; --"):
        with pytest.raises(NotScratch, match="not a restore-test scratch database"):
            scratch_database_sql(name, "drop")
    assert issubclass(NotScratch, Permanent)


def test_nothing_to_test_and_a_failed_test_are_permanent() -> None:
    assert issubclass(plan.NothingToTest, Permanent)
    assert issubclass(plan.RestoreTestFailed, Permanent)
