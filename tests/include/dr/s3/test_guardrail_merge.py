"""The guardrails' pure rules: merging ours into a bucket's policy and lifecycle, and the
tiers a DR version may be moved to (#18)."""

from __future__ import annotations

import copy
from typing import Any

from include.dr.s3.guardrails import (
    LIFECYCLE_RULE_ID,
    TLS_SID,
    archive_tierings,
    denies_plain_http,
    lifecycle_rule,
    merge_lifecycle,
    merge_policy,
    short_expiries,
    slow_transitions,
    tls_statement,
)

FOREIGN_STATEMENT = {
    "Sid": "AuditorsRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::dr/*",
}
FOREIGN_RULE = {
    "ID": "expire-logs",
    "Status": "Enabled",
    "Filter": {"Prefix": "logs/"},
    "Expiration": {"Days": 400},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
}


def test_our_tls_statement_joins_a_foreign_policy_and_keeps_its_version_id_and_statements() -> None:
    policy = {"Version": "2008-10-17", "Id": "theirs", "Statement": [FOREIGN_STATEMENT]}
    merged = merge_policy(policy, tls_statement("dr"))
    assert merged["Version"] == "2008-10-17" and merged["Id"] == "theirs"
    assert merged["Statement"] == [FOREIGN_STATEMENT, tls_statement("dr")]
    assert denies_plain_http(merged)
    assert policy["Statement"] == [FOREIGN_STATEMENT]  # the input is not changed


def test_a_single_statement_object_is_kept_and_ours_replaced_by_sid_not_duplicated() -> None:
    weakened = {**tls_statement("dr"), "Principal": {"AWS": "arn:aws:iam::1:root"}}
    assert not denies_plain_http({"Statement": [weakened]})
    merged = merge_policy({"Statement": FOREIGN_STATEMENT}, tls_statement("dr"))
    again = merge_policy(
        {**merged, "Statement": [FOREIGN_STATEMENT, weakened]}, tls_statement("dr")
    )
    assert merged["Statement"] == again["Statement"] == [FOREIGN_STATEMENT, tls_statement("dr")]
    assert [s["Sid"] for s in again["Statement"]].count(TLS_SID) == 1
    assert merge_policy({}, tls_statement("dr"))["Version"] == "2012-10-17"


def test_our_lifecycle_rule_joins_foreign_rules_untouched() -> None:
    rules = [copy.deepcopy(FOREIGN_RULE)]
    merged = merge_lifecycle(rules, 7)
    assert merged == [FOREIGN_RULE, lifecycle_rule(30)]
    assert rules == [FOREIGN_RULE]


def test_our_lifecycle_rule_is_replaced_by_id_and_never_weakens_a_stricter_one() -> None:
    ours_short = {**lifecycle_rule(3), "Transitions": [{"Days": 1, "StorageClass": "GLACIER"}]}
    assert merge_lifecycle([FOREIGN_RULE, ours_short], 7) == [FOREIGN_RULE, lifecycle_rule(30)]
    assert merge_lifecycle([lifecycle_rule(500)], 7) == [lifecycle_rule(500)]
    assert merge_lifecycle([], 45) == [lifecycle_rule(45)]
    # Ours covers the whole bucket and S3 applies the soonest overlapping expiry, so ours
    # keeps noncurrent versions at least as long as any other enabled rule does.
    keeps_long = {
        "ID": "keep-audit",
        "Status": "Enabled",
        "Filter": {"Prefix": "audit/"},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 2555},
    }
    disabled = {**keeps_long, "ID": "off", "Status": "Disabled", "Filter": {"Prefix": "x/"}}
    disabled["NoncurrentVersionExpiration"] = {"NoncurrentDays": 9000}
    merged = merge_lifecycle([keeps_long, disabled], 7)
    assert merged[:2] == [keeps_long, disabled]
    assert merged[2] == lifecycle_rule(2555)
    assert [rule["ID"] for rule in merged].count(LIFECYCLE_RULE_ID) == 1


def test_short_expiries_name_their_rule() -> None:
    rules: list[dict[str, Any]] = [
        {"ID": "short", "Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 3}},
        {"ID": "off", "Status": "Disabled", "Expiration": {"Days": 1}},
        FOREIGN_RULE,
    ]
    assert short_expiries(rules, 7) == ["rule 'short' expires noncurrent versions after 3 days"]


def _moving(tier: str, noncurrent: bool = False, status: str = "Enabled") -> dict[str, Any]:
    move = (
        {"NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": tier}]}
        if noncurrent
        else {"Transitions": [{"Days": 30, "StorageClass": tier}]}
    )
    return {"ID": f"to-{tier.lower()}", "Status": status, "Filter": {"Prefix": ""}, **move}


def test_moves_to_glacier_or_deep_archive_are_refused_by_rule_for_either_kind_of_version() -> None:
    assert slow_transitions([_moving("GLACIER")]) == [
        "rule 'to-glacier' moves current versions to GLACIER after 30 days"
    ]
    assert slow_transitions([_moving("DEEP_ARCHIVE", noncurrent=True)]) == [
        "rule 'to-deep_archive' moves noncurrent versions to DEEP_ARCHIVE after 30 days"
    ]
    assert slow_transitions([_moving("GLACIER", status="Disabled")]) == []
    # A class not known to be instant is refused until it is.
    assert slow_transitions([_moving("SOME_FUTURE_ARCHIVE")]) != []


def test_instant_tiers_are_allowed_and_intelligent_tiering_only_without_archive_tiers() -> None:
    instant = ["GLACIER_IR", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING"]
    rules = [_moving(tier, noncurrent) for tier in instant for noncurrent in (False, True)]
    assert slow_transitions(rules) == []
    assert slow_transitions(rules, tiering_archives=True) == [
        "rule 'to-intelligent_tiering' moves current versions to INTELLIGENT_TIERING after 30 days",
        "rule 'to-intelligent_tiering' moves noncurrent versions to INTELLIGENT_TIERING after 30 days",
    ]
    configurations = [
        {
            "Id": "archive",
            "Status": "Enabled",
            "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}],
        },
        {
            "Id": "off",
            "Status": "Disabled",
            "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}],
        },
    ]
    assert archive_tierings(configurations) == ["archive"]
