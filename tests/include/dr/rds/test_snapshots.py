"""Whether an instance can be snapshotted now, and what a refused snapshot request means."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from include.dr.errors import Permanent, Transient
from include.dr.rds.snapshots import (
    InstanceUnusable,
    snapshot_create_error,
    snapshot_readiness,
)


@pytest.mark.parametrize("status", ["available", "storage-optimization"])
def test_the_states_create_db_snapshot_accepts_are_snapshotted_now(status: str) -> None:
    assert snapshot_readiness("db", status, "eu-west-2") == "snapshot"


@pytest.mark.parametrize(
    "status", ["backing-up", "modifying", "maintenance", "rebooting", "upgrading", "starting", "?"]
)
def test_states_that_pass_on_their_own_are_waited_for(status: str) -> None:
    assert snapshot_readiness("db", status, "eu-west-2") == "wait"


@pytest.mark.parametrize(
    "status", ["stopped", "failed", "storage-full", "inaccessible-encryption-credentials"]
)
def test_states_only_a_person_can_end_fail_at_once_naming_the_instance(status: str) -> None:
    with pytest.raises(InstanceUnusable, match=f"db in eu-west-2 is {status}") as refused:
        snapshot_readiness("db", status, "eu-west-2")
    assert isinstance(refused.value, Permanent)


def test_invalid_instance_state_is_transient_and_other_refusals_are_left_to_the_boundary() -> None:
    busy = ClientError({"Error": {"Code": "InvalidDBInstanceState"}}, "CreateDBSnapshot")
    assert isinstance(snapshot_create_error(busy, "db", "eu-west-2"), Transient)
    denied = ClientError({"Error": {"Code": "AccessDenied"}}, "CreateDBSnapshot")
    assert snapshot_create_error(denied, "db", "eu-west-2") is None
