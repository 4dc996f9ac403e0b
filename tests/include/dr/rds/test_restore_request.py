"""The RDS restore's pure parts: the request refused by field (the refusal matrix that
the DAG test ran end to end), where an instance restore acts, and the DAG's branch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from include.dr.connections import AWS_RESTORE, AWS_RESTORE_PRODUCTION
from include.dr.errors import Permanent
from include.dr.policy.loader import load_policy
from include.dr.policy.model import BackupPolicy
from include.dr.rds.restore_request import restore_path, restore_side, validate_request
from include.dr.restores import RestoreRefused

NOW = datetime(2026, 11, 26, 18, 30, tzinfo=UTC)
POLICY = load_policy()
INSTANCE = POLICY.assets.rds[0].instance
LOGICAL = {"source": "logical_dump", "dump_date": "2026-11-25", "target_database": "restore_c"}


def request(policy: BackupPolicy = POLICY, **params: Any) -> Any:
    return validate_request({"instance": INSTANCE, "dry_run": False, **params}, policy, NOW)


def replicating_to_dr() -> BackupPolicy:
    replicated = POLICY.assets.rds[0].model_copy(update={"pitr_in_dr_region": True})
    assets = POLICY.assets.model_copy(update={"rds": [replicated]})
    return POLICY.model_copy(update={"assets": assets})


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"source": "latest", "target_instance": INSTANCE}, "target_instance"),
        ({"source": "latest", "target_instance": "bad_name; drop"}, "target_instance"),
        ({"source": "latest", "target_instance": "x" * 64}, "target_instance"),
        ({"source": "latest", "target_instance": "customers-copy"}, "target_instance"),
        ({"source": "latest"}, "target_instance"),
        ({"source": "snapshot", "snapshot_id": "no such; x", "target_instance": "restored-x1"}, "snapshot_id"),
        ({"source": "latest", "target_instance": "restored-x2", "instance_class": "huge"}, "instance_class"),
        ({"source": "latest", "target_instance": "restored-x2", "subnet_group": "a;b"}, "subnet_group"),
        ({"source": "latest", "target_instance": "restored-x3", "security_group_ids": ["x"]}, "security_group_ids"),
        ({"source": "latest", "target_instance": "restored-x3", "security_group_ids": "sg-1"}, "security_group_ids"),
        (
            {"source": "point_in_time", "restore_time": "2999-01-01T00:00:00Z", "target_instance": "restored-x4"},
            "restore_time",
        ),
        ({"source": "point_in_time", "restore_time": "soon", "target_instance": "restored-x4"}, "restore_time"),
        ({"source": "point_in_time", "region": "moon", "target_instance": "restored-x4"}, "region"),
        (  # the policy does not replicate the automated backups to the DR region
            {"source": "point_in_time", "restore_time": "2026-11-26T01:00:00Z", "region": "dr", "target_instance": "restored-x4"},
            "region",
        ),
        ({**LOGICAL, "dump_date": "26/11/2026"}, "dump_date"),
        ({**LOGICAL, "target_database": "customers"}, "target_database"),
        ({**LOGICAL, "target_database": "mysql"}, "target_database"),
        ({**LOGICAL, "target_database": "x`; DROP DATABASE customers; --"}, "target_database"),
        ({"source": "everything"}, "source"),
        ({"instance": "swl-customers-prod; DROP", "source": "latest"}, "instance"),
    ],
)  # fmt: skip
def test_a_bad_request_is_refused_by_field_and_changes_nothing(
    params: dict[str, Any], field: str
) -> None:
    with pytest.raises(RestoreRefused) as refused:
        request(**params)
    assert refused.value.field == field
    assert str(refused.value).startswith(f"{field}: ")
    assert "Nothing was changed" in str(refused.value)
    assert isinstance(refused.value, Permanent)  # refused at once, never retried


def test_a_good_instance_request_is_normalised() -> None:
    checked = request(
        source="latest", target_instance="restored-customers", security_group_ids=[], dry_run=None
    )
    assert checked["dry_run"] is True  # anything but an explicit False is a dry run
    assert checked["target_instance"] == "restored-customers"
    assert checked["instance_class"] is None and checked["subnet_group"] is None
    assert checked["dr_region"] == POLICY.regions.dr


def test_a_good_logical_request_names_the_day_and_the_database() -> None:
    checked = request(**{**LOGICAL, "target_database": "restore_x1"})
    assert (checked["dump_date"], checked["target_database"]) == ("2026-11-25", "restore_x1")
    assert checked["database"] == POLICY.assets.rds[0].database


@pytest.mark.parametrize(
    ("params", "side"),
    [
        ({"source": "latest"}, (AWS_RESTORE, POLICY.regions.dr)),
        ({"source": "snapshot", "snapshot_id": f"{INSTANCE}-2026-11-25"}, (AWS_RESTORE, POLICY.regions.dr)),
        (
            {"source": "point_in_time", "restore_time": "2026-11-26T01:00:00Z", "region": "production"},
            (AWS_RESTORE_PRODUCTION, POLICY.regions.production),
        ),
        (  # replicated automated backups stay in the production account
            {"source": "point_in_time", "restore_time": "2026-11-26T01:00:00Z", "region": "dr"},
            (AWS_RESTORE_PRODUCTION, POLICY.regions.dr),
        ),
    ],
)  # fmt: skip
def test_an_instance_restore_acts_as_the_restore_operator_in_its_region_and_account(
    params: dict[str, Any], side: tuple[str, str]
) -> None:
    checked = request(replicating_to_dr(), target_instance="restored-1", **params)
    assert restore_side(checked) == side


@pytest.mark.parametrize(
    ("params", "path"),
    [
        ({"source": "latest", "target_instance": "restored-1", "dry_run": True}, "dry_run"),
        ({**LOGICAL, "dry_run": True}, "dry_run"),
        ({"source": "latest", "target_instance": "restored-1"}, "restore_instance"),
        ({**LOGICAL}, "load_dump"),
    ],
)
def test_the_branch_follows_the_dry_run_and_the_source(params: dict[str, Any], path: str) -> None:
    assert restore_path(request(**params)) == path
