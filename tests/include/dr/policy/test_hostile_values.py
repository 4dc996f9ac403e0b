"""The policy file fed malformed, hostile and boundary values: each is refused at load time,
before any DAG runs, with the field named (#10's bad-input table)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from include.dr.policy.loader import DEFAULT_POLICY_FILE, PolicyError, load_policy

SHIPPED = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())


def s3(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda p: p["assets"]["s3"][0].update(changes)


def rds(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda p: p["assets"]["rds"][0].update(changes)


def github(**changes: Any) -> Callable[[dict[str, Any]], None]:
    return lambda p: p["assets"]["github"].update(changes)


CASES = [
    ("rds instance with SQL", rds(instance="db; DROP TABLE x"), "instance"),
    ("rds database with a quote", rds(database="customers`; --"), "database"),
    ("rds database too long", rds(database="d" * 65), "database"),
    ("bucket with a path", s3(source="../etc/passwd"), "source"),
    ("bucket with upper case", s3(dr_bucket="My-Bucket"), "dr_bucket"),
    ("prefix escaping upwards", s3(prefixes=["../../secrets/"]), "prefixes"),
    ("absolute prefix", s3(prefixes=["/etc/"]), "prefixes"),
    ("prefix of wrong type", s3(prefixes="config/"), "prefixes"),
    ("organisation with shell", github(organisation="org$(reboot)"), "organisation"),
    ("repository with a path", github(repositories=["../../root"]), "repositories"),
    ("repository of wrong type", github(repositories=[["webapp"]]), "repositories"),
    ("huge retention", lambda p: p["retention"].update(minimum_days=10**12), "minimum_days"),
    ("retention under a week", lambda p: p["retention"].update(minimum_days=6), "minimum_days"),
    ("retention as text", lambda p: p["retention"].update(minimum_days="seven"), "minimum_days"),
    (
        "restore test too rare",
        lambda p: p["restore_test"].update(interval_days=366),
        "interval_days",
    ),
    ("window time malformed", lambda p: p["schedule"]["window"].update(start="25:00"), "start"),
    (
        "unknown time zone",
        lambda p: p["schedule"]["window"].update(timezone="Mars/Olympus"),
        "timezone",
    ),
    (
        "kms key of another region",
        lambda p: p["kms_keys"].update({"eu-west-1": "arn:aws:kms:us-east-1:123456789012:key/x"}),
        "kms_keys",
    ),
    (
        "topic that is not an ARN",
        lambda p: p["alerts"].update(sns_topic_arn="http://evil/"),
        "sns_topic_arn",
    ),
    (
        "notifier path with code",
        lambda p: p["alerts"].update(notifier={"class_path": "os.system('x')"}),
        "class_path",
    ),
    (
        "a tolerance of 100%",
        lambda p: p["restore_test"].update(row_count_tolerance={"orders": 1.0}),
        "row_count_tolerance",
    ),
    ("an unknown field", lambda p: p.update(backdoor=True), "backdoor"),
]


@pytest.mark.parametrize(
    ("change", "field"), [(c, f) for _, c, f in CASES], ids=[n for n, _, _ in CASES]
)
def test_a_hostile_or_malformed_value_is_refused_naming_the_field(
    change: Callable[[dict[str, Any]], None], field: str, tmp_path: Path
) -> None:
    policy = copy.deepcopy(SHIPPED)
    change(policy)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    assert field in str(refused.value)


def test_yaml_that_is_not_a_mapping_or_not_yaml_is_refused(tmp_path: Path) -> None:
    for text in ("- just\n- a list\n", "key: [unclosed\n", "!!python/object:os.system x\n"):
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        with pytest.raises(PolicyError):
            load_policy(path)
