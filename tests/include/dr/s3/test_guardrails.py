"""The DR bucket guardrails: pure rules both ways, real buckets on moto, and a fake bucket
that refuses each read (every guardrail fails closed, nothing is fixed; #18)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from include.dr.checks import Check
from include.dr.environment import is_local_stack
from include.dr.errors import Transient
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.s3.guardrails import (
    TLS_SID,
    check_dr_bucket,
    denies_plain_http,
    fix_dr_bucket,
    lifecycle_rule,
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
    s3.put_bucket_lifecycle_configuration(  # our own rule, too short: the fix replaces it
        Bucket=bucket, LifecycleConfiguration={"Rules": [lifecycle_rule(3)]}
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
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert [r["NoncurrentVersionExpiration"]["NoncurrentDays"] for r in rules] == [30]


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
    assert not fix_dr_bucket(
        s3, "swl-customer-uploads-dr", key, 7, {"dr_bucket_tls_only"}, local=True
    )


def _dr_bucket(settings: LocalSettings, prefix: str) -> tuple[Any, Any, str, str]:
    """A new bucket in the DR region on moto, and the DR key's ARN."""
    s3, kms = aws_client(settings, "s3", "eu-west-1"), aws_client(settings, "kms", "eu-west-1")
    key = kms.describe_key(KeyId="alias/swl-backup-dr")["KeyMetadata"]["Arn"]
    bucket = f"{prefix}-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return s3, kms, bucket, key


def _failing(s3: Any, kms: Any, bucket: str, key: str, local: bool = True) -> dict[str, Check]:
    checks = check_dr_bucket(s3, kms, bucket, "eu-west-1", key, 7, local)
    return {c.name: c for c in checks if c.failed}


def _foreign_allow(bucket: str) -> dict[str, Any]:
    """An Allow (moto applies a Deny whatever its conditions, so never one here)."""
    return {
        "Sid": "AuditorsRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }


FOREIGN_RULE = {
    "ID": "expire-scratch",
    "Status": "Enabled",
    "Filter": {"Prefix": "scratch/"},
    "Expiration": {"Days": 400},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
}


@pytest.mark.usefixtures("local_stack")
def test_the_fix_keeps_a_foreign_policy_statement_and_lifecycle_rule(
    settings: LocalSettings,
) -> None:
    s3, kms, bucket, key = _dr_bucket(settings, "merge")
    policy = {"Version": "2012-10-17", "Statement": [_foreign_allow(bucket)]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [FOREIGN_RULE, lifecycle_rule(3)]}
    )
    failed = _failing(s3, kms, bucket, key)
    assert set(failed) == {"dr_bucket_versioning", "dr_bucket_encryption", "dr_bucket_lifecycle"}
    assert "rule 'keep-noncurrent-versions' expires" in failed["dr_bucket_lifecycle"].found

    changes = fix_dr_bucket(s3, bucket, key, 7, set(failed), local=True)

    assert _failing(s3, kms, bucket, key) == {}
    assert "(1 other rules kept)" in changes[-1]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules == [FOREIGN_RULE, lifecycle_rule(30)]
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == policy


class PolicyWritesHeld:
    """A moto client whose bucket policy writes are recorded, never sent: moto would apply
    the TLS Deny to every request, whatever its condition."""

    def __init__(self, s3: Any) -> None:
        self._s3, self.meta, self.policies = s3, s3.meta, []

    def put_bucket_policy(self, Bucket: str, Policy: str) -> None:
        self.policies.append(json.loads(Policy))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)


@pytest.mark.usefixtures("local_stack")
def test_outside_the_local_stack_the_tls_statement_joins_the_foreign_policy_read_from_s3(
    settings: LocalSettings,
) -> None:
    real, kms, bucket, key = _dr_bucket(settings, "tls-merge")
    policy = {"Version": "2012-10-17", "Id": "theirs", "Statement": [_foreign_allow(bucket)]}
    real.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    s3 = PolicyWritesHeld(real)
    tls = _failing(s3, kms, bucket, key, local=False)["dr_bucket_tls_only"]
    assert tls.found == "plain-HTTP requests allowed"

    assert fix_dr_bucket(s3, bucket, key, 7, {"dr_bucket_tls_only"}, local=False) == [
        f"TLS-only statement {TLS_SID} in the bucket policy"
    ]
    [sent] = s3.policies
    assert sent["Id"] == "theirs" and sent["Statement"][0] == _foreign_allow(bucket)
    assert [s.get("Sid") for s in sent["Statement"]] == ["AuditorsRead", TLS_SID]
    assert denies_plain_http(sent)


@pytest.mark.usefixtures("local_stack")
def test_a_foreign_rule_expiring_too_soon_is_named_and_left_for_a_person(
    settings: LocalSettings,
) -> None:
    s3, kms, bucket, key = _dr_bucket(settings, "short")
    short = {**lifecycle_rule(3), "ID": "short"}
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [short]})
    fix_dr_bucket(s3, bucket, key, 7, {"dr_bucket_encryption", "dr_bucket_lifecycle"}, True)
    failed = _failing(s3, kms, bucket, key)
    assert set(failed) == {"dr_bucket_lifecycle"}
    assert (
        "rule 'short' expires noncurrent versions after 3 days"
        in failed["dr_bucket_lifecycle"].found
    )
    assert "fix_settings changes only the rule" in failed["dr_bucket_lifecycle"].fix
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules == [short, lifecycle_rule(30)]


@pytest.mark.usefixtures("local_stack")
def test_a_lifecycle_moving_versions_to_glacier_fails_the_guardrail_naming_the_rule(
    settings: LocalSettings,
) -> None:
    s3, kms, bucket, key = _dr_bucket(settings, "glacier")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    archive = {
        "ID": "archive-old",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "GLACIER"}],
    }
    instant = {
        "ID": "cheaper",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Transitions": [{"Days": 30, "StorageClass": "GLACIER_IR"}],
    }
    ours_archiving = {
        **lifecycle_rule(30),
        "Transitions": [{"Days": 90, "StorageClass": "DEEP_ARCHIVE"}],
    }
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": [archive, instant, ours_archiving]}
    )
    fix_dr_bucket(s3, bucket, key, 7, {"dr_bucket_encryption"}, local=True)
    lifecycle = _failing(s3, kms, bucket, key)["dr_bucket_lifecycle"]
    assert "rule 'archive-old' moves noncurrent versions to GLACIER after 30 days" in (
        lifecycle.found
    )
    assert "rule 'keep-noncurrent-versions' moves current versions to DEEP_ARCHIVE" in (
        lifecycle.found
    )
    assert "cheaper" not in lifecycle.found
    assert "GLACIER_IR" in lifecycle.fix and "restore test" in lifecycle.fix

    fix_dr_bucket(s3, bucket, key, 7, {"dr_bucket_lifecycle"}, local=True)  # ours, not theirs
    lifecycle = _failing(s3, kms, bucket, key)["dr_bucket_lifecycle"]
    assert "archive-old" in lifecycle.found and "DEEP_ARCHIVE" not in lifecycle.found
    rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rules == [archive, instant, lifecycle_rule(30)]


# A fake DR bucket that refuses one read, to see every guardrail fail closed.
READS = {
    "get_bucket_versioning": ("dr_bucket_versioning", "s3:GetBucketVersioning"),
    "get_bucket_encryption": ("dr_bucket_encryption", "s3:GetEncryptionConfiguration"),
    "get_bucket_lifecycle_configuration": (
        "dr_bucket_lifecycle",
        "s3:GetLifecycleConfiguration",
    ),
    "get_bucket_policy": ("dr_bucket_tls_only", "s3:GetBucketPolicy"),
    "list_bucket_intelligent_tiering_configurations": (
        "dr_bucket_lifecycle",
        "s3:GetIntelligentTieringConfiguration",
    ),
}
READS_NAMES = {name for name, _ in READS.values()}
KEY = "arn:aws:kms:eu-west-1:123456789012:key/dr"


def _error(code: str, operation: str, status: int = 403) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


class FakeDrBucket:
    """A DR bucket that passes every guardrail, except that ``refuse`` answers ``code``;
    every write is recorded."""

    def __init__(self, refuse: str = "", code: str = "AccessDenied", status: int = 403) -> None:
        self.refuse, self.code, self.status = refuse, code, status
        self.writes: list[str] = []
        self.meta = type("Meta", (), {"endpoint_url": "https://s3.eu-west-1.amazonaws.com"})()
        self.rules: list[dict[str, Any]] = [
            lifecycle_rule(30),
            {
                "ID": "tiering",
                "Status": "Enabled",
                "Filter": {"Prefix": ""},
                "Transitions": [{"Days": 0, "StorageClass": "INTELLIGENT_TIERING"}],
            },
        ]

    def _answer(self, call: str, answer: Any) -> Any:
        if call == self.refuse:
            raise _error(self.code, call, self.status)
        return answer

    def get_bucket_location(self, Bucket: str) -> dict[str, Any]:
        return {"LocationConstraint": "eu-west-1"}

    def get_bucket_versioning(self, Bucket: str) -> dict[str, Any]:
        return self._answer("get_bucket_versioning", {"Status": "Enabled"})  # type: ignore[no-any-return]

    def get_bucket_encryption(self, Bucket: str) -> dict[str, Any]:
        default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEY}
        rules = [{"ApplyServerSideEncryptionByDefault": default}]
        return self._answer(  # type: ignore[no-any-return]
            "get_bucket_encryption", {"ServerSideEncryptionConfiguration": {"Rules": rules}}
        )

    def get_bucket_lifecycle_configuration(self, Bucket: str) -> dict[str, Any]:
        return self._answer("get_bucket_lifecycle_configuration", {"Rules": self.rules})  # type: ignore[no-any-return]

    def get_bucket_policy(self, Bucket: str) -> dict[str, Any]:
        return self._answer("get_bucket_policy", {"Policy": json.dumps(tls_policy(Bucket))})  # type: ignore[no-any-return]

    def list_bucket_intelligent_tiering_configurations(self, **kwargs: Any) -> dict[str, Any]:
        return self._answer(  # type: ignore[no-any-return]
            "list_bucket_intelligent_tiering_configurations",
            {"IsTruncated": False, "IntelligentTieringConfigurationList": []},
        )

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("put_", "delete_")):
            return lambda **kwargs: self.writes.append(name)
        raise AttributeError(name)


class FakeKms:
    def describe_key(self, KeyId: str) -> dict[str, Any]:
        return {"KeyMetadata": {"Arn": KeyId}}


def test_the_fake_bucket_passes_every_guardrail_when_nothing_is_refused() -> None:
    checks = check_dr_bucket(FakeDrBucket(), FakeKms(), "dr", "eu-west-1", KEY, 7, local=False)
    assert [c.status for c in checks] == ["pass"] * 5


@pytest.mark.parametrize("read", sorted(READS))
def test_a_refused_read_fails_its_guardrail_closed_and_nothing_is_fixed(read: str) -> None:
    s3 = FakeDrBucket(refuse=read)
    name, permission = READS[read]
    checks = {c.name: c for c in check_dr_bucket(s3, FakeKms(), "dr", "eu-west-1", KEY, 7, False)}

    refused = checks[name]
    assert refused.status == "fail"
    assert refused.found == f"unreadable: S3 answered AccessDenied (needs {permission})"
    assert refused.fix.startswith(f"grant {permission} on arn:aws:s3:::dr")
    assert "fix_settings changes nothing" in refused.fix
    assert [c.status for n, c in checks.items() if n != name] == ["pass"] * 4

    failed = {c.name for c in checks.values() if c.failed}
    assert fix_dr_bucket(s3, "dr", KEY, 7, failed | set(READS_NAMES), local=False) == []
    assert s3.writes == []


def test_any_other_refusal_fails_closed_too_and_never_reads_as_not_configured() -> None:
    for code in ("AllAccessDisabled", "InvalidToken", "MethodNotAllowed", "NoSuchBucket"):
        s3 = FakeDrBucket(refuse="get_bucket_lifecycle_configuration", code=code, status=400)
        [lifecycle] = [
            c
            for c in check_dr_bucket(s3, FakeKms(), "dr", "eu-west-1", KEY, 7, local=False)
            if c.name == "dr_bucket_lifecycle"
        ]
        assert lifecycle.failed and lifecycle.found.startswith(f"unreadable: S3 answered {code}")


@pytest.mark.parametrize(
    ("read", "code"),
    [
        ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration"),
        ("get_bucket_policy", "NoSuchBucketPolicy"),
        ("get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError"),
    ],
)
def test_a_setting_never_configured_is_judged_as_absent_and_fixed_by_merging(
    read: str, code: str
) -> None:
    s3 = FakeDrBucket(refuse=read, code=code, status=404)
    checks = {c.name: c for c in check_dr_bucket(s3, FakeKms(), "dr", "eu-west-1", KEY, 7, False)}
    name = READS[read][0]
    assert not checks[name].found.startswith("unreadable")
    assert checks[name].status == ("pass" if name == "dr_bucket_lifecycle" else "fail")
    fix_dr_bucket(s3, "dr", KEY, 7, {c.name for c in checks.values() if c.failed}, False)
    assert s3.writes == ([] if name == "dr_bucket_lifecycle" else [f"put_bucket_{read[11:]}"])


def test_throttling_on_a_read_is_transient_never_a_pass() -> None:
    s3 = FakeDrBucket(refuse="get_bucket_versioning", code="SlowDown", status=503)
    with pytest.raises(Transient, match="s3:GetBucketVersioning"):
        check_dr_bucket(s3, FakeKms(), "dr", "eu-west-1", KEY, 7, local=False)


def test_intelligent_tiering_with_an_archive_tier_fails_the_lifecycle_guardrail() -> None:
    s3 = FakeDrBucket()
    archive = {
        "Id": "archive",
        "Status": "Enabled",
        "Tierings": [{"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}],
    }
    s3.list_bucket_intelligent_tiering_configurations = lambda **kwargs: {  # type: ignore[method-assign]
        "IsTruncated": False,
        "IntelligentTieringConfigurationList": [archive],
    }
    [lifecycle] = [
        c
        for c in check_dr_bucket(s3, FakeKms(), "dr", "eu-west-1", KEY, 7, local=False)
        if c.name == "dr_bucket_lifecycle"
    ]
    assert lifecycle.failed
    assert "rule 'tiering' moves current versions to INTELLIGENT_TIERING" in lifecycle.found
    assert "Intelligent-Tiering archive configurations archive" in lifecycle.found
