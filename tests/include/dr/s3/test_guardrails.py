"""The DR bucket guardrails: pure rules both ways, and real buckets on moto."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from include.dr.environment import is_local_stack
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.s3.guardrails import (
    check_dr_bucket,
    denies_plain_http,
    fix_dr_bucket,
    shortest_expiry,
    tls_policy,
)


def test_the_tls_rule_recognises_a_deny_of_plain_http_and_nothing_weaker() -> None:
    assert denies_plain_http(tls_policy("b"))
    allow = tls_policy("b")
    allow["Statement"][0]["Effect"] = "Allow"
    assert not denies_plain_http(allow)
    narrow = tls_policy("b")
    narrow["Statement"][0]["Principal"] = {"AWS": "arn:aws:iam::1:root"}
    assert not denies_plain_http(narrow)
    assert not denies_plain_http({})


def test_the_shortest_expiry_counts_current_and_noncurrent_versions() -> None:
    rules = [
        {"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 30}},
        {"Status": "Enabled", "Expiration": {"Days": 5}},
        {"Status": "Disabled", "Expiration": {"Days": 1}},
    ]
    assert shortest_expiry(rules) == 5
    assert shortest_expiry([]) is None


@pytest.mark.usefixtures("local_stack")
def test_a_bare_bucket_fails_each_guardrail_until_fixed(settings: LocalSettings) -> None:
    s3, kms = aws_client(settings, "s3", "eu-west-1"), aws_client(settings, "kms", "eu-west-1")
    key = kms.describe_key(KeyId="alias/swl-backup-dr")["KeyMetadata"]["Arn"]
    bucket = f"bare-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={
            "Rules": [
                {
                    "ID": "short",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 3},
                }
            ]
        },
    )

    def failing() -> set[str]:
        return {
            c.name
            for c in check_dr_bucket(s3, kms, bucket, "eu-west-1", key, 7, local=True)
            if c.failed
        }

    assert failing() == {"dr_bucket_versioning", "dr_bucket_encryption", "dr_bucket_lifecycle"}
    changes = fix_dr_bucket(s3, bucket, key, 7, failing(), local=True)
    assert len(changes) == 3 and failing() == set()


@pytest.mark.usefixtures("local_stack")
def test_a_bucket_in_the_wrong_region_stops_at_the_region(settings: LocalSettings) -> None:
    s3, kms = aws_client(settings, "s3", "eu-west-1"), aws_client(settings, "kms", "eu-west-1")
    checks = check_dr_bucket(s3, kms, "swl-customer-uploads", "eu-west-1", "arn", 7, local=True)
    assert [(c.name, c.passed, c.found) for c in checks] == [("dr_bucket", False, "in eu-west-2")]


@pytest.mark.usefixtures("local_stack")
def test_outside_the_local_stack_a_missing_tls_policy_fails(settings: LocalSettings) -> None:
    s3, kms = aws_client(settings, "s3", "eu-west-1"), aws_client(settings, "kms", "eu-west-1")
    key = kms.describe_key(KeyId="alias/swl-backup-dr")["KeyMetadata"]["Arn"]
    checks: dict[str, Any] = {
        c.name: c
        for c in check_dr_bucket(
            s3, kms, "swl-customer-uploads-dr", "eu-west-1", key, 7, local=False
        )
    }
    assert not checks["dr_bucket_tls_only"].passed
    assert "aws:SecureTransport" in checks["dr_bucket_tls_only"].fix


@pytest.mark.usefixtures("local_stack")
def test_on_the_local_stack_the_tls_rule_is_not_checked_and_says_n_a_never_pass(
    settings: LocalSettings,
) -> None:
    s3, kms = aws_client(settings, "s3", "eu-west-1"), aws_client(settings, "kms", "eu-west-1")
    assert is_local_stack(s3)
    key = kms.describe_key(KeyId="alias/swl-backup-dr")["KeyMetadata"]["Arn"]
    checks = {
        c.name: c
        for c in check_dr_bucket(
            s3, kms, "swl-customer-uploads-dr", "eu-west-1", key, 7, is_local_stack(s3)
        )
    }
    tls = checks["dr_bucket_tls_only"]
    assert (tls.status, tls.passed, tls.failed) == ("n/a", False, False)
    assert tls.as_dict()["status"] == "n/a" and "local stack" in tls.found
    assert [c.status for n, c in checks.items() if n != "dr_bucket_tls_only"] == ["pass"] * 4
    assert "TLS-only bucket policy" not in fix_dr_bucket(
        s3, "swl-customer-uploads-dr", key, 7, {"dr_bucket_tls_only"}, local=True
    )
