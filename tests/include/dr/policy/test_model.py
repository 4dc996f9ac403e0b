"""The policy file: the shipped one loads, and every rule refuses a bad value by name."""

from __future__ import annotations

import copy
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from include.dr.policy.loader import DEFAULT_POLICY_FILE, PolicyError, load_policy
from include.dr.policy.model import BackupWindow

SHIPPED: dict[str, Any] = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document) if not isinstance(document, str) else document)
    return path


def mutated(change: dict[str, Any]) -> dict[str, Any]:
    """The shipped policy with dotted paths set (or removed, for the value ``...``)."""
    document = copy.deepcopy(SHIPPED)
    for dotted, value in change.items():
        *parents, last = dotted.split(".")
        node = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is ...:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return document


def test_shipped_policy_states_the_written_policy() -> None:
    policy = load_policy()
    assert policy.schedule.frequency == "daily"
    assert policy.retention.minimum_days >= 7
    assert policy.restore_test.interval_days <= 365
    assert (policy.regions.production, policy.regions.dr) == ("eu-west-2", "eu-west-1")
    # The UK has one AWS region, so the shipped policy records why it leaves the country.
    assert policy.regions.residency_exception is not None
    assert "single region" in policy.regions.residency.statement
    assert policy.kms_key("eu-west-1").startswith("alias/")
    assert [asset.instance for asset in policy.assets.rds] == ["swl-customers-prod"]
    assert policy.cloud_services


REFUSALS = [
    ({"retention.minimum_days": 6}, "retention.minimum_days", "7 or more"),
    ({"restore_test.interval_days": 366}, "restore_test.interval_days", "once a year"),
    ({"restore_test.instance_class": "huge"}, "restore_test.instance_class", "db.t3.small"),
    (
        {"restore_test.network": {"subnet_group": "a;b"}},
        "restore_test.network.subnet_group",
        "subnet group name",
    ),
    (
        {"restore_test.network": {"security_group_ids": ["default"]}},
        "restore_test.network.security_group_ids",
        "sg-...",
    ),
    ({"schedule.frequency": "weekly"}, "schedule.frequency", "'daily'"),
    ({"schema_version": 2}, "schema_version", "found 2"),
    ({"schedule.window.start": "25:00"}, "schedule.window.start", "between 00:00 and 23:59"),
    ({"schedule.window.end": "5pm"}, "schedule.window.end", "HH:MM"),
    ({"schedule.window.timezone": "Europe/Atlantis"}, "schedule.window.timezone", "IANA"),
    ({"schedule.window.end": "01:00"}, "schedule.window", "no window"),
    ({"regions.dr": "eu-west-2"}, "regions", "separate region"),
    ({"regions.dr": "mars-east-1"}, "regions.dr", "region code"),
    ({"regions.residency_exception": ...}, "regions", "residency_exception"),
    (
        {
            "regions.dr": "us-west-2",
            "regions.production": "us-east-1",
            "kms_keys": {"us-west-2": "alias/a", "us-east-1": "alias/b"},
        },
        "regions",
        "remove the exception",
    ),
    (
        {"regions.residency_exception.reason": "short"},
        "regions.residency_exception.reason",
        "at least 20",
    ),
    (
        {"kms_keys": {"eu-west-2": "alias/prod"}},
        "(top level)",
        "no key for the dr region eu-west-1",
    ),
    (
        {"kms_keys.eu-west-1": "arn:aws:kms:eu-west-2:123456789012:key/abc"},
        "kms_keys",
        "only works in its own region",
    ),
    ({"kms_keys.eu-west-1": "my key"}, "kms_keys", "KMS alias"),
    ({"assets.s3.0.dr_bucket": "swl-customer-uploads"}, "assets.s3[0]", "separate bucket"),
    ({"assets.s3.1.dr_bucket": "swl-customer-uploads-dr"}, "assets", "listed twice"),
    (
        {"assets.rds.0.dr_bucket": "swl-system-data-dr"},
        "assets",
        "dr_bucket swl-system-data-dr is listed twice",
    ),
    ({"assets.rds.0.dr_bucket": "swl-system-data"}, "assets", "also backed up as a source"),
    ({"assets.s3.1.dr_bucket": "swl-customer-uploads"}, "assets", "also backed up as a source"),
    ({"assets.s3.0.source": "Bad_Bucket"}, "assets.s3[0].source", "S3 bucket name"),
    ({"assets.s3.1.prefixes": ["../etc/"]}, "assets.s3[1].prefixes", "'..'"),
    (
        {"assets.rds.0.instance": "1-starts-with-digit"},
        "assets.rds[0].instance",
        "starting with a letter",
    ),
    (
        {"assets.rds.0.database": "customers; DROP TABLE x"},
        "assets.rds[0].database",
        "MySQL database name",
    ),
    ({"assets.github.organisation": "-bad-"}, "assets.github.organisation", "GitHub organisation"),
    ({"assets.github.repositories": ["webapp", "webapp"]}, "assets.github.repositories", "twice"),
    (
        {"assets.github.repositories": ["../escape"]},
        "assets.github.repositories",
        "letters, digits",
    ),
    ({"assets": {}}, "assets", "lists no assets"),
    (
        {"cloud_services.0.sla_url": "http://insecure"},
        "cloud_services[0].sla_url",
        "https:// address",
    ),
    ({"retention.keep_forever": True}, "retention", "unknown field(s) keep_forever"),
    ({"retention": ...}, "retention", "required but missing"),
]


@pytest.mark.parametrize(
    ("change", "field", "hint"), REFUSALS, ids=[r[1] + ":" + r[2] for r in REFUSALS]
)
def test_bad_value_is_refused_naming_file_field_and_fix(
    tmp_path: Path, change: dict[str, Any], field: str, hint: str
) -> None:
    path = write(tmp_path, mutated(change))
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    message = str(refused.value)
    assert str(path) in message
    assert f"  {field}: " in message
    assert hint in message


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, mutated({"retention.minimum_days": 3, "restore_test.interval_days": 0}))
    message = str(pytest.raises(PolicyError, load_policy, path).value)
    assert "2 problems" in message
    assert "retention.minimum_days" in message and "restore_test.interval_days" in message


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("schedule: [unclosed\n", "not valid YAML at line 2"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("", "must be a YAML mapping"),
    ],
)
def test_unreadable_document_is_refused(tmp_path: Path, text: str, hint: str) -> None:
    path = write(tmp_path, text)
    assert hint in str(pytest.raises(PolicyError, load_policy, path).value)


def test_missing_file_names_the_path_and_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    message = str(pytest.raises(PolicyError, load_policy, missing).value)
    assert str(missing) in message and "BACKUP_POLICY_FILE" in message


def test_policy_file_can_be_chosen_by_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, mutated({"retention.minimum_days": 30}))
    monkeypatch.setenv("BACKUP_POLICY_FILE", str(path))
    assert load_policy().retention.minimum_days == 30


def test_unquoted_yaml_times_are_refused_with_a_hint_to_quote_them(tmp_path: Path) -> None:
    # YAML 1.1 turns an unquoted 23:30 into the integer 1410, and 24:00 into 1440.
    text = DEFAULT_POLICY_FILE.read_text().replace('start: "01:00"', "start: 23:30")
    message = str(pytest.raises(PolicyError, load_policy, write(tmp_path, text)).value)
    assert (
        'schedule.window.start: YAML read the unquoted time 23:30 as the number 1410; quote it: start: "23:30"'
        in message
    )


def test_quoted_times_and_dates_load(tmp_path: Path) -> None:
    text = (
        DEFAULT_POLICY_FILE.read_text()
        .replace('start: "01:00"', "start: '23:30'")
        .replace("approved_on: 2026-11-27", 'approved_on: "2026-11-27"')
    )
    policy = load_policy(write(tmp_path, text))
    assert policy.schedule.window.start == time(23, 30)
    assert policy.schedule.window.overnight
    assert policy.regions.residency_exception
    assert policy.regions.residency_exception.approved_on.isoformat() == "2026-11-27"


clock = st.times().map(lambda moment: moment.replace(second=0, microsecond=0))


@given(start=clock, end=clock)
def test_window_length_and_overnight_follow_the_clock(start: time, end: time) -> None:
    if start == end:
        return
    window = BackupWindow(start=start, end=end, timezone="Europe/London")
    assert timedelta(0) < window.length < timedelta(days=1)
    assert window.overnight == (end < start)
