"""The DR bucket guardrails, checked before anything is copied (and fixed only on request).

A DR bucket keeps the backup only if it is in the DR region, versioned (so an
overwrite or deletion at the source becomes a new version, never a loss),
encrypted by default with the DR region's key, expires old versions no sooner
than the policy's minimum retention, moves no version to a tier that needs a
restore before a read (restores and the restore test read DR versions at once),
and refuses plain-HTTP requests.

A setting S3 will not show us (AccessDenied, or any answer other than "not
configured") fails its check closed, naming the permission to grant; it never
passes and never reads as "not configured", and ``fix_settings`` then changes
nothing on that bucket. Throttling and server errors are :class:`Transient`.

The fixes merge: the bucket policy and the lifecycle keep every statement and rule
that is not ours; ours are found by :data:`TLS_SID` and :data:`LIFECYCLE_RULE_ID`
and added or replaced, never so as to shorten what another rule keeps.

moto applies a bucket policy's Deny while ignoring its conditions, so a TLS-only
policy would block everything on the local stack: there
(:func:`include.dr.environment.is_local_stack`) the TLS rule is neither attached nor
checked, and reports ``n/a``, never ``pass``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from include.dr.checks import Check, check_bucket_region
from include.dr.errors import error_code, from_client_error, is_not_found, is_transient

TLS_SID = "DenyInsecureTransport"
LIFECYCLE_RULE_ID = "keep-noncurrent-versions"
# Ours never expires noncurrent versions sooner than this, whatever the minimum.
LIFECYCLE_FLOOR_DAYS = 30

# Lifecycle targets read at once (milliseconds); any other class (GLACIER, DEEP_ARCHIVE, a
# class S3 adds later) is refused until it is known to be instant.
INSTANT_TIERS = frozenset({"STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"})
TIERING_CLASS = "INTELLIGENT_TIERING"

# What S3 answers for a setting that was never configured (beside the generic not-found).
NOT_CONFIGURED_CODES = frozenset(
    {
        "NoSuchLifecycleConfiguration",
        "NoSuchBucketPolicy",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchConfiguration",
        "ObjectLockConfigurationNotFoundError",
    }
)

T = TypeVar("T")


@dataclass(frozen=True)
class Unreadable:
    """A setting S3 would not show us: its check fails closed and nothing is fixed."""

    permission: str
    code: str

    def found(self) -> str:
        return f"unreadable: S3 answered {self.code} (needs {self.permission})"

    def fix(self, bucket: str) -> str:
        return (
            f"grant {self.permission} on arn:aws:s3:::{bucket} to the backup's AWS role; "
            "the check fails and fix_settings changes nothing on the bucket until then"
        )


@dataclass(frozen=True)
class BucketSettings:
    """The DR bucket's settings as read, each one a value or :class:`Unreadable`.

    ``policy`` is ``None`` on the local stack (not read); ``tiering`` is ``None`` when no
    lifecycle rule moves versions to Intelligent-Tiering (not needed, so not read)."""

    versioning: str | Unreadable
    encryption: list[dict[str, Any]] | Unreadable
    lifecycle: dict[str, Any] | Unreadable
    policy: dict[str, Any] | Unreadable | None
    tiering: list[dict[str, Any]] | Unreadable | None = field(default=None)

    def unreadable(self) -> list[Unreadable]:
        values = (self.versioning, self.encryption, self.lifecycle, self.policy, self.tiering)
        return [value for value in values if isinstance(value, Unreadable)]


def is_not_configured(error: ClientError) -> bool:
    """Whether S3 said the setting was never configured (not that it would not show it,
    nor that the bucket itself is gone)."""
    code = error_code(error)
    return code in NOT_CONFIGURED_CODES or (is_not_found(error) and code != "NoSuchBucket")


def read_setting(read: Callable[[], T], permission: str, absent: T, bucket: str) -> T | Unreadable:
    """``read()``; ``absent`` when never configured; :class:`Unreadable` on a refusal."""
    try:
        return read()
    except ClientError as exc:
        if is_not_configured(exc):
            return absent
        if is_transient(exc):
            raise from_client_error(exc, f"reading {permission} of {bucket}") from exc
        return Unreadable(permission, error_code(exc) or "an error without a code")


def read_settings(s3: Any, bucket: str, local: bool) -> BucketSettings:
    """Every setting the guardrails judge, read once (the policy not on the local stack)."""
    lifecycle: dict[str, Any] | Unreadable = read_setting(
        lambda: _lifecycle_document(s3.get_bucket_lifecycle_configuration(Bucket=bucket)),
        "s3:GetLifecycleConfiguration",
        {"Rules": []},
        bucket,
    )
    return BucketSettings(
        versioning=read_setting(
            lambda: str(s3.get_bucket_versioning(Bucket=bucket).get("Status", "Disabled")),
            "s3:GetBucketVersioning",
            "Disabled",
            bucket,
        ),
        encryption=read_setting(
            lambda: list(
                s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
                    "Rules"
                ]
            ),
            "s3:GetEncryptionConfiguration",
            [],
            bucket,
        ),
        lifecycle=lifecycle,
        policy=None if local else _read_policy(s3, bucket),
        tiering=_read_tiering(s3, bucket, lifecycle),
    )


def _lifecycle_document(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The rules and the transition size default: all a put must send back to keep them."""
    document: dict[str, Any] = {"Rules": list(answer.get("Rules", []))}
    if answer.get("TransitionDefaultMinimumObjectSize"):
        document["TransitionDefaultMinimumObjectSize"] = answer[
            "TransitionDefaultMinimumObjectSize"
        ]
    return document


def _read_policy(s3: Any, bucket: str) -> dict[str, Any] | Unreadable:
    return read_setting(
        lambda: dict(json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])),
        "s3:GetBucketPolicy",
        {},
        bucket,
    )


def _read_tiering(
    s3: Any, bucket: str, lifecycle: dict[str, Any] | Unreadable
) -> list[dict[str, Any]] | Unreadable | None:
    """Intelligent-Tiering configurations, read only when a rule moves versions there."""
    if isinstance(lifecycle, Unreadable) or not _moves_to(lifecycle["Rules"], TIERING_CLASS):
        return None

    def every_page() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        token: dict[str, str] = {}
        while True:
            page = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket, **token)
            found += page.get("IntelligentTieringConfigurationList", [])
            if not page.get("IsTruncated"):
                return found
            token = {"ContinuationToken": page["NextContinuationToken"]}

    return read_setting(every_page, "s3:GetIntelligentTieringConfiguration", [], bucket)


def denies_plain_http(policy: Mapping[str, Any]) -> bool:
    """True when a Deny statement covers every request made without TLS."""
    for statement in statements(policy):
        condition = statement.get("Condition", {}).get("Bool", {})
        if (
            statement.get("Effect") == "Deny"
            and str(condition.get("aws:SecureTransport", "")).lower() == "false"
            and statement.get("Principal") in ("*", {"AWS": "*"})
        ):
            return True
    return False


def statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A policy's statements as a list (IAM also allows a single statement object)."""
    found = policy.get("Statement", [])
    return [found] if isinstance(found, dict) else list(found)


def tls_statement(bucket: str) -> dict[str, Any]:
    """Ours: deny every request to the bucket and its objects made without TLS."""
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def tls_policy(bucket: str) -> dict[str, Any]:
    return merge_policy({}, tls_statement(bucket))


def merge_policy(policy: Mapping[str, Any], ours: Mapping[str, Any]) -> dict[str, Any]:
    """``policy`` with ``ours`` added, or in place of the statement with its Sid; every
    other statement (and the policy's Version and Id) kept as it was."""
    kept = [s for s in statements(policy) if s.get("Sid") != ours["Sid"]]
    merged = {key: value for key, value in policy.items() if key != "Statement"}
    merged.setdefault("Version", "2012-10-17")
    merged["Statement"] = [*kept, dict(ours)]
    return merged


def shortest_expiry(rules: list[dict[str, Any]]) -> int | None:
    """The fewest days any enabled lifecycle rule keeps a current or noncurrent version."""
    days = [day for _, _, day in _expiries(rules)]
    return min(days) if days else None


def _expiries(rules: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(rule ID, which versions, days) for each expiry of each enabled rule."""
    found = []
    for rule in _enabled(rules):
        noncurrent = rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        current = rule.get("Expiration", {}).get("Days")
        if noncurrent is not None:
            found.append((_rule_id(rule), "noncurrent", int(noncurrent)))
        if current is not None:
            found.append((_rule_id(rule), "current", int(current)))
    return found


def short_expiries(rules: list[dict[str, Any]], minimum_days: int) -> list[str]:
    """Each expiry sooner than ``minimum_days``, named by its rule."""
    return [
        f"rule {rule_id!r} expires {which} versions after {days} days"
        for rule_id, which, days in _expiries(rules)
        if days < minimum_days
    ]


def slow_transitions(rules: list[dict[str, Any]], tiering_archives: bool = False) -> list[str]:
    """Each move of current or noncurrent versions to a tier that needs a restore before a
    read, named by its rule; Intelligent-Tiering counts when its archive tiers are on."""
    found = []
    for rule in _enabled(rules):
        for which, key, days_key in (
            ("current", "Transitions", "Days"),
            ("noncurrent", "NoncurrentVersionTransitions", "NoncurrentDays"),
        ):
            for move in rule.get(key, []):
                tier = str(move.get("StorageClass", ""))
                if _needs_restore(tier, tiering_archives):
                    when = (
                        f"after {move[days_key]} days"
                        if days_key in move
                        else f"from {move.get('Date', '?')}"
                    )
                    found.append(f"rule {_rule_id(rule)!r} moves {which} versions to {tier} {when}")
    return found


def _needs_restore(tier: str, tiering_archives: bool) -> bool:
    if tier == TIERING_CLASS:
        return tiering_archives
    return tier not in INSTANT_TIERS


def archive_tierings(configurations: list[dict[str, Any]]) -> list[str]:
    """The enabled Intelligent-Tiering configurations that opt into an archive tier."""
    return [
        str(config.get("Id", "?"))
        for config in configurations
        if config.get("Status") == "Enabled" and config.get("Tierings")
    ]


def _moves_to(rules: list[dict[str, Any]], tier: str) -> bool:
    return any(
        move.get("StorageClass") == tier
        for rule in _enabled(rules)
        for move in [*rule.get("Transitions", []), *rule.get("NoncurrentVersionTransitions", [])]
    )


def _enabled(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [rule for rule in rules if rule.get("Status") == "Enabled"]


def _rule_id(rule: Mapping[str, Any]) -> str:
    return str(rule.get("ID") or "(no ID)")


def lifecycle_rule(days: int) -> dict[str, Any]:
    """Ours: noncurrent versions expire after ``days``, nothing is moved to another tier."""
    return {
        "ID": LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": days},
    }


def merge_lifecycle(rules: list[dict[str, Any]], minimum_days: int) -> list[dict[str, Any]]:
    """``rules`` with ours added, or in place of the rule with its ID; every other rule kept.

    Ours covers the whole bucket, and S3 applies the soonest of overlapping expiries, so
    its days are never fewer than any enabled rule's noncurrent expiry (ours included):
    adding it never shortens what another rule keeps."""
    others = [rule for rule in rules if rule.get("ID") != LIFECYCLE_RULE_ID]
    kept = [
        int(rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays", 0))
        for rule in _enabled(rules)
    ]
    return [*others, lifecycle_rule(max([LIFECYCLE_FLOOR_DAYS, minimum_days, *kept]))]


def check_dr_bucket(
    s3: Any, kms: Any, bucket: str, region: str, key_arn: str, minimum_days: int, local: bool
) -> list[Check]:
    """Every guardrail of one DR bucket, each a :class:`Check` with its fix."""
    located = check_bucket_region(s3, bucket, region, "dr")
    if not located.passed:
        return [located]
    settings = read_settings(s3, bucket, local)
    return [
        located,
        _versioning_check(bucket, settings.versioning),
        _encryption_check(kms, bucket, key_arn, settings.encryption),
        _lifecycle_check(bucket, minimum_days, settings),
        _tls_check(bucket, settings.policy, local),
    ]


def _unreadable_check(name: str, bucket: str, expected: str, unreadable: Unreadable) -> Check:
    return Check(name, bucket, False, expected, unreadable.found(), unreadable.fix(bucket))


def _versioning_check(bucket: str, versioning: str | Unreadable) -> Check:
    name, expected = "dr_bucket_versioning", "versioning Enabled"
    if isinstance(versioning, Unreadable):
        return _unreadable_check(name, bucket, expected, versioning)
    ok = versioning == "Enabled"
    return Check(
        name, bucket, ok, expected, versioning, "" if ok else "enable versioning on the DR bucket"
    )


def _encryption_check(
    kms: Any, bucket: str, key_arn: str, rules: list[dict[str, Any]] | Unreadable
) -> Check:
    name, expected = "dr_bucket_encryption", f"default SSE-KMS with {key_arn}"
    if isinstance(rules, Unreadable):
        return _unreadable_check(name, bucket, expected, rules)
    found_key = _default_kms_key(kms, rules)
    ok = found_key == key_arn
    return Check(
        name,
        bucket,
        ok,
        expected,
        found_key or "no default SSE-KMS",
        "" if ok else f"set default SSE-KMS with {key_arn}",
    )


def _default_kms_key(kms: Any, rules: list[dict[str, Any]]) -> str | None:
    """The ARN of the bucket's default KMS key (SSE-KMS or the stricter DSSE-KMS)."""
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault", {})
        if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse") and default.get(
            "KMSMasterKeyID"
        ):
            key = default["KMSMasterKeyID"]
            try:
                return str(kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"])
            except ClientError:
                return str(key)
    return None


def _lifecycle_check(bucket: str, minimum_days: int, settings: BucketSettings) -> Check:
    name = "dr_bucket_lifecycle"
    expected = (
        f"versions kept at least {minimum_days} days, none moved to a tier "
        "that needs a restore before a read"
    )
    if isinstance(settings.lifecycle, Unreadable):
        return _unreadable_check(name, bucket, expected, settings.lifecycle)
    if isinstance(settings.tiering, Unreadable):
        return _unreadable_check(name, bucket, expected, settings.tiering)
    rules = settings.lifecycle["Rules"]
    archives = archive_tierings(settings.tiering or [])
    short, slow = short_expiries(rules, minimum_days), slow_transitions(rules, bool(archives))
    expiry = shortest_expiry(rules)
    found = ["no expiry" if expiry is None else f"shortest expiry {expiry} days", *short, *slow]
    if archives:
        found.append(f"Intelligent-Tiering archive configurations {', '.join(archives)}")
    return Check(
        name,
        bucket,
        not short and not slow,
        expected,
        "; ".join(found),
        _lifecycle_fix(minimum_days, short, slow),
    )


def _lifecycle_fix(minimum_days: int, short: list[str], slow: list[str]) -> str:
    fixes = []
    if short:
        fixes.append(f"raise every expiry in the DR bucket's lifecycle to {minimum_days}+ days")
    if slow:
        fixes.append(
            "remove those transitions or move to an instant tier (GLACIER_IR, STANDARD_IA, "
            "ONEZONE_IA, or Intelligent-Tiering without archive tiers): restores and the "
            "restore test read DR versions at once"
        )
    if fixes:
        fixes.append(f"fix_settings changes only the rule {LIFECYCLE_RULE_ID!r}, no other")
    return "; ".join(fixes)


def _tls_check(bucket: str, policy: dict[str, Any] | Unreadable | None, local: bool) -> Check:
    name, expected = "dr_bucket_tls_only", "bucket policy denies requests without TLS"
    if local or policy is None:
        return Check.not_checked(
            name,
            bucket,
            expected,
            "the local stack (plain-HTTP endpoint; moto would apply the Deny to every request)",
        )
    if isinstance(policy, Unreadable):
        return _unreadable_check(name, bucket, expected, policy)
    ok = denies_plain_http(policy)
    return Check(
        name,
        bucket,
        ok,
        expected,
        "denied" if ok else "plain-HTTP requests allowed",
        "" if ok else "attach a policy denying aws:SecureTransport=false (or set fix_settings)",
    )


def put_default_kms(s3: Any, bucket: str, key_arn: str) -> None:
    """Default encryption SSE-KMS with ``key_arn`` (and S3 Bucket Keys, to spare KMS calls)."""
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key_arn,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )


def fix_dr_bucket(
    s3: Any, bucket: str, key_arn: str, minimum_days: int, failed: set[str], local: bool
) -> list[str]:
    """Set what the failed checks named; only with the policy's ``fix_settings``.

    The settings are read again first: when any of them cannot be read, nothing is
    changed (a merge needs the document it merges into), and the checks keep failing
    with the permission to grant."""
    settings = read_settings(s3, bucket, local)
    if settings.unreadable():
        return []
    changes = []
    if "dr_bucket_versioning" in failed:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        changes.append("versioning enabled")
    if "dr_bucket_encryption" in failed:
        put_default_kms(s3, bucket, key_arn)
        changes.append(f"default SSE-KMS with {key_arn}")
    if "dr_bucket_lifecycle" in failed:
        assert isinstance(settings.lifecycle, dict)
        changes.append(_put_lifecycle(s3, bucket, settings.lifecycle, minimum_days))
    if "dr_bucket_tls_only" in failed and not local:
        assert isinstance(settings.policy, dict)
        merged = merge_policy(settings.policy, tls_statement(bucket))
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(merged))
        changes.append(f"TLS-only statement {TLS_SID} in the bucket policy")
    return changes


def _put_lifecycle(s3: Any, bucket: str, document: dict[str, Any], minimum_days: int) -> str:
    """Our rule merged into the lifecycle; the change as one line for the evidence."""
    rules = merge_lifecycle(document["Rules"], minimum_days)
    extra = {key: value for key, value in document.items() if key != "Rules"}
    s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}, **extra
    )
    days = rules[-1]["NoncurrentVersionExpiration"]["NoncurrentDays"]
    kept = len(rules) - 1
    return f"lifecycle rule {LIFECYCLE_RULE_ID}: noncurrent versions kept {days} days" + (
        f" ({kept} other rules kept)" if kept else ""
    )
