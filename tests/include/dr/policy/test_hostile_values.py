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


# The policy file is read by every DAG file at parse time, so a hostile file must be refused
# before any expensive work, with a short message naming the field and the fix (#14).

MAX_MESSAGE = 1500  # five problems of a few hundred characters at most
LAUGHS = 'lol: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"lol{n}: &{chr(97 + n)} [{','.join([f'*{chr(96 + n)}'] * 9)}]\n" for n in range(1, 10)
)


def refusal(path: Path) -> str:
    with pytest.raises(PolicyError) as refused:
        load_policy(path)
    message = str(refused.value)
    assert len(message) <= MAX_MESSAGE, message[:2000]
    return message


def shipped_text() -> str:
    return DEFAULT_POLICY_FILE.read_text()


def write_text(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "policy.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def never_constructed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Building Python values from the YAML is the step an alias bomb makes explode."""
    from include.dr.policy import loader

    def construct(*_: object) -> None:
        raise AssertionError("the document was constructed before it was screened")

    monkeypatch.setattr(loader, "_construct", construct)


def never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    from include.dr.policy import loader

    def parse(*_: object) -> None:
        raise AssertionError("the YAML parser was called")

    never_constructed(monkeypatch)
    monkeypatch.setattr(loader, "_screen", parse)


@pytest.mark.parametrize(("unquoted", "number"), [("24:00", "1440"), ("25:00", "1500")])
def test_an_unquoted_time_read_as_a_number_is_refused_with_a_hint_to_quote_it(
    tmp_path: Path, unquoted: str, number: str
) -> None:
    text = shipped_text().replace('end: "05:00"', f"end: {unquoted}")
    message = refusal(write_text(tmp_path, text))
    assert "schedule.window.end" in message
    assert number in message and f'"{unquoted}"' in message and "quote" in message


def test_midnight_written_24_00_is_refused_even_quoted(tmp_path: Path) -> None:
    text = shipped_text().replace('end: "05:00"', 'end: "24:00"')
    message = refusal(write_text(tmp_path, text))
    assert "schedule.window.end" in message and "00:00" in message


def test_a_decimal_number_is_not_a_time(tmp_path: Path) -> None:
    text = shipped_text().replace('start: "01:00"', "start: 1.5")
    message = refusal(write_text(tmp_path, text))
    assert "schedule.window.start" in message and "quote" in message and "1.5" in message


def test_an_alias_bomb_in_a_field_is_refused_before_it_expands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    never_constructed(monkeypatch)
    bomb = "".join(f"  {line}\n" for line in LAUGHS.splitlines())
    text = shipped_text().replace("company: Social Workshop Ltd", f"company:\n{bomb}")
    message = refusal(write_text(tmp_path, text))
    assert "company" in message and "alias" in message and "line" in message
    assert "'lol', 'lol'" not in message  # no expanded value is quoted


def test_an_alias_bomb_as_the_whole_document_is_refused_before_it_expands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    never_constructed(monkeypatch)
    message = refusal(write_text(tmp_path, LAUGHS))
    assert "alias" in message and "line 1" in message


def test_an_alias_bomb_in_notifier_arguments_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    never_constructed(monkeypatch)
    bomb = "".join(f"      {line}\n" for line in LAUGHS.splitlines())
    text = shipped_text().replace(
        "  sns_topic_arn: arn:aws:sns:eu-west-2:123456789012:backup-alerts\n",
        "  sns_topic_arn: arn:aws:sns:eu-west-2:123456789012:backup-alerts\n"
        "  notifier:\n"
        "    class_path: airflow.providers.slack.notifications.slack.SlackNotifier\n"
        f"    arguments:\n{bomb}",
    )
    message = refusal(write_text(tmp_path, text))
    assert "alerts.notifier.arguments" in message and "alias" in message


def test_a_single_harmless_alias_is_refused_too(tmp_path: Path) -> None:
    text = shipped_text().replace("eu-west-1: alias/swl-backup-dr", "eu-west-1: &dr alias/x")
    message = refusal(write_text(tmp_path, text + "extra: *dr\n"))
    assert "kms_keys.eu-west-1" in message and "write the value out in full" in message


@pytest.mark.parametrize(
    "oversized",
    [
        lambda: shipped_text() + "# " + "x" * 50_000_000 + "\n",
        lambda: shipped_text().replace("Social Workshop Ltd", "x" * 50_000_000),
    ],
    ids=["a long comment", "a long company"],
)
def test_a_file_over_the_size_cap_is_refused_before_it_is_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, oversized: Callable[[], str]
) -> None:
    never_parsed(monkeypatch)
    message = refusal(write_text(tmp_path, oversized()))
    assert "1 MiB" in message and "policy file" in message


def test_a_value_just_under_the_cap_is_quoted_only_as_a_short_excerpt(tmp_path: Path) -> None:
    text = shipped_text().replace("instance: swl-customers-prod", "instance: " + "y" * 900_000)
    message = refusal(write_text(tmp_path, text))
    assert "assets.rds[0].instance" in message and "yyyy" in message


def test_a_non_utf8_byte_is_refused_naming_its_line(tmp_path: Path) -> None:
    line = shipped_text().splitlines().index("company: Social Workshop Ltd") + 1
    text = shipped_text().encode().replace(b"company: Social", b"company: Social \xff")
    message = refusal(write_text(tmp_path, text))
    assert "UTF-8" in message and f"line {line}" in message


def test_a_utf16_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    message = refusal(write_text(tmp_path, shipped_text().encode("utf-16")))
    assert "UTF-16" in message and "save it as UTF-8" in message


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    assert load_policy(write_text(tmp_path, b"\xef\xbb\xbf" + shipped_text().encode()))


@pytest.mark.parametrize(
    "deep",
    [
        "[" * 20_000 + "]" * 20_000,
        shipped_text().replace("company: Social Workshop Ltd", "company: " + "[" * 20_000),
        shipped_text().replace("company: Social Workshop Ltd", "company: " + "{a: " * 20_000),
    ],
    ids=["whole document", "flow sequences in a field", "flow mappings in a field"],
)
def test_deep_nesting_is_refused_without_exhausting_the_stack(tmp_path: Path, deep: str) -> None:
    message = refusal(write_text(tmp_path, deep))
    assert "nested" in message and "levels" in message


def test_deep_nesting_names_the_field(tmp_path: Path) -> None:
    text = shipped_text().replace("company: Social Workshop Ltd", "company: " + "[" * 20_000)
    assert "company" in refusal(write_text(tmp_path, text))


def test_too_many_values_are_refused_before_they_are_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    never_constructed(monkeypatch)
    names = ", ".join(f"r{n}" for n in range(60_000))
    text = shipped_text().replace(
        "repositories: [webapp, infrastructure, mobile-app]", f"repositories: [{names}]"
    )
    message = refusal(write_text(tmp_path, text))
    assert "assets.github.repositories" in message and "values" in message


def test_a_duplicate_section_is_refused_naming_the_key_and_both_lines(tmp_path: Path) -> None:
    text = shipped_text() + "regions:\n  production: us-east-1\n  dr: us-west-2\n"
    first = shipped_text().splitlines().index("regions:") + 1
    last = len(shipped_text().splitlines()) + 1
    message = refusal(write_text(tmp_path, text))
    assert "regions" in message and f"line {first}" in message and f"line {last}" in message


def test_a_duplicate_nested_key_is_refused(tmp_path: Path) -> None:
    text = shipped_text().replace("  minimum_days: 7\n", "  minimum_days: 7\n  minimum_days: 30\n")
    message = refusal(write_text(tmp_path, text))
    assert "retention.minimum_days" in message and "twice" in message


def test_a_merge_key_is_refused(tmp_path: Path) -> None:
    text = shipped_text().replace("  minimum_days: 7\n", "  <<: {minimum_days: 30}\n")
    assert "merge" in refusal(write_text(tmp_path, text))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda p: p["kms_keys"].update({"eu-west-1; rm -rf /": "alias/x"}), "kms_keys"),
        (lambda p: p["kms_keys"].update({"$(reboot)": "alias/x"}), "kms_keys"),
        (lambda p: p["kms_keys"].update({"mars-east-1": "alias/x"}), "kms_keys"),
        (lambda p: p["kms_keys"].update({7: "alias/x"}), "kms_keys"),
    ],
    ids=["shell list", "command substitution", "unknown region", "a number"],
)
def test_a_kms_key_region_must_be_a_region_of_the_table(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str
) -> None:
    policy = copy.deepcopy(SHIPPED)
    change(policy)
    message = refusal(write_text(tmp_path, yaml.safe_dump(policy)))
    assert field in message and "region" in message


@pytest.mark.parametrize(
    ("section", "field", "value", "found"),
    [
        ("retention", "minimum_days", "7", "'7'"),
        ("retention", "minimum_days", 7.0, "7.0"),
        ("retention", "minimum_days", True, "True"),
        ("retention", "keep_verified", True, "True"),
        ("retention", "keep_verified", "2", "'2'"),
        ("restore_test", "interval_days", 365.0, "365.0"),
        ("restore_test", "s3_minimum_objects", "20", "'20'"),
        ("restore_test", "s3_sample_percent", "1", "'1'"),
        ("restore_test", "s3_sample_percent", True, "True"),
        ("schema_version", None, True, "True"),
        ("schema_version", None, "1", "'1'"),
        ("company", None, 123, "123"),
    ],
)
def test_values_of_the_wrong_type_are_not_coerced(
    tmp_path: Path, section: str, field: str | None, value: Any, found: str
) -> None:
    policy = copy.deepcopy(SHIPPED)
    if field is None:
        policy[section] = value
    else:
        policy[section][field] = value
    message = refusal(write_text(tmp_path, yaml.safe_dump(policy)))
    assert (f"{section}.{field}" if field else section) in message and f"found {found}" in message


def test_flags_must_be_true_or_false(tmp_path: Path) -> None:
    policy = copy.deepcopy(SHIPPED)
    policy["assets"]["rds"][0]["fix_drift"] = "no"
    message = refusal(write_text(tmp_path, yaml.safe_dump(policy)))
    assert "assets.rds[0].fix_drift" in message


def test_a_date_must_be_a_date(tmp_path: Path) -> None:
    policy = copy.deepcopy(SHIPPED)
    policy["cloud_services"][0]["sla_reviewed_on"] = 20261001
    message = refusal(write_text(tmp_path, yaml.safe_dump(policy)))
    assert "cloud_services[0].sla_reviewed_on" in message and "YYYY-MM-DD" in message


def test_many_problems_make_a_bounded_message(tmp_path: Path) -> None:
    policy = copy.deepcopy(SHIPPED)
    policy["assets"]["s3"] = [{"source": "x" * 500, "dr_bucket": "y" * 500} for _ in range(200)]
    message = refusal(write_text(tmp_path, yaml.safe_dump(policy)))
    assert "more" in message


def test_a_yaml_syntax_error_is_short(tmp_path: Path) -> None:
    text = shipped_text().replace("company: Social Workshop Ltd", "company: [" + "x" * 100_000)
    message = refusal(write_text(tmp_path, text))
    assert "not valid YAML" in message
