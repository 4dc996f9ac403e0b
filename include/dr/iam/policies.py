"""The IAM policies of the product's roles, built from the recorded call inventory.

One role per connection (:data:`ROLES`), one policy document per DAG family in it. Each
recorded call becomes the grants it needs (:mod:`include.dr.iam.actions`), its
placeholders replaced by the policy file's names, so a bucket added to the policy file
is granted and a bucket taken out is not (and a DR bucket's settings may be changed only
where the asset has ``fix_settings``). Two kinds of grant are added that no call
names, because AWS checks them on the caller's behalf:

- the KMS use behind SSE-KMS objects, encrypted snapshots and an encrypted topic, only
  through those services (``kms:ViaService``) and only on the policy's keys (by alias);
- the owner tag on every RDS delete (``aws:ResourceTag``), so retention can never
  delete a snapshot or instance it did not make.

Nothing here grants what would destroy a backup or blind the audit (purging a version,
loosening Object Lock, deleting or disabling a key, stopping the trail):
:data:`NEVER_GRANTED` is checked on every document built.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from include.dr.errors import Permanent
from include.dr.iam.actions import Grant, grants
from include.dr.iam.calls import COPY_SOURCE, Call
from include.dr.policy.model import BackupPolicy
from include.dr.tags import OWNER_KEY, OWNER_VALUE

# Connection id -> the role its credentials belong to.
ROLES: dict[str, str] = {
    "aws_default": "backup-production-reader",
    "aws_dr": "backup-dr-writer",
    "aws_restore": "backup-restore-operator",
    "aws_restore_production": "backup-production-restorer",
}
# What would let a holder of the workers' keys destroy a backup or blind the audit: purge
# a version, loosen Object Lock, delete or disable a key, stop the trail.
NEVER_GRANTED = frozenset(
    {
        "s3:DeleteObjectVersion",
        "s3:PutObjectRetention",
        "s3:BypassGovernanceRetention",
        "s3:PutBucketObjectLockConfiguration",
        "kms:ScheduleKeyDeletion",
        "kms:DisableKey",
        "kms:PutKeyPolicy",
        "cloudtrail:DeleteTrail",
        "cloudtrail:StopLogging",
        "cloudtrail:UpdateTrail",
        "s3:*",
        "kms:*",
        "cloudtrail:*",
    }
)
RDS_DELETES = frozenset({"rds:DeleteDBSnapshot", "rds:DeleteDBInstance"})
GRANT_FOR_AWS_RESOURCE = {"Bool": {"kms:GrantIsForAWSResource": "true"}}
ACCOUNT = "${AWS::AccountId}"  # CloudFormation fills it in; tests put a number in its place
# Which account a connection's role lives in: production's, or the DR account.
SIDES: dict[str, str] = {
    "aws_default": "production",
    "aws_restore_production": "production",
    "aws_dr": "dr",
    "aws_restore": "dr",
}
# The account of an ARN: one for every region, or one per region (a role in one account
# acting on another account's keys and snapshots names that account in their ARNs).
Accounts = str | Mapping[str, str]


def account_in(accounts: Accounts, region: str) -> str:
    """The account whose resources in ``region`` an ARN names."""
    return accounts if isinstance(accounts, str) else accounts[region]


# The S3 backup changes a DR bucket's settings only for an asset with ``fix_settings``.
BUCKET_SETTING_WRITES = frozenset(
    {
        "s3:PutEncryptionConfiguration",
        "s3:PutBucketVersioning",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketPolicy",
    }
)


class UngrantableCall(Permanent):
    """A recorded call names a placeholder the policy file gives no value for."""


def placeholder_values(policy: BackupPolicy, store_bucket: str) -> dict[str, list[str]]:
    """What each placeholder of the inventory stands for under ``policy``."""
    github = policy.assets.github
    return {
        "{source_bucket}": [a.source for a in policy.assets.s3],
        "{object_dr_bucket}": [a.dr_bucket for a in policy.assets.s3],
        "{database_dr_bucket}": [a.dr_bucket for a in policy.assets.rds],
        "{instance}": [a.instance for a in policy.assets.rds],
        "{code_dr_bucket}": [github.dr_bucket] if github and github.dr_bucket else [],
        "{alerts_topic}": [policy.alerts.topic_name],
        "{store_bucket}": [store_bucket],
    }


def expand(resource: str, values: Mapping[str, list[str]]) -> list[str]:
    """``resource`` once for each value of each placeholder in it."""
    match = re.search(r"\{[a-z_]+\}", resource)
    if match is None:
        return [resource]
    if match.group() not in values:
        raise UngrantableCall(f"{resource}: no value for {match.group()}")
    return [
        expanded
        for value in values[match.group()]
        for expanded in expand(resource.replace(match.group(), value, 1), values)
    ]


def key_condition(policy: BackupPolicy, regions: Iterable[str]) -> dict[str, Any]:
    """The policy's keys, by alias: key ARNs are not known until the keys exist."""
    aliases = sorted({policy.kms_key(region) for region in regions})
    return {"ForAnyValue:StringEquals": {"kms:ResourceAliases": aliases}}


def family_grants(
    calls: Iterable[Call], policy: BackupPolicy, store_bucket: str, account: Accounts = ACCOUNT
) -> dict[str, dict[str, set[Grant]]]:
    """``{connection: {family: grants}}`` for the recorded calls, names expanded."""
    values = placeholder_values(policy, store_bucket)
    fixable = {
        **values,
        "{object_dr_bucket}": [a.dr_bucket for a in policy.assets.s3 if a.fix_settings],
    }
    found: dict[str, dict[str, set[Grant]]] = defaultdict(lambda: defaultdict(set))
    for call in calls:
        for grant in grants(call, account_in(account, call.region)):
            if grant.action.startswith("kms:"):
                # Keys are granted by alias (below), whatever id the call named: the
                # policy's keys, or the one alias a call named literally (the signing key).
                alias = f":{call.resource}" if call.resource.startswith("alias/") else ""
                found[call.principal][call.family].add(
                    Grant(grant.action, f"kms:{call.region}{alias}")
                )
                continue
            names = fixable if grant.action in BUCKET_SETTING_WRITES else values
            for resource in expand(grant.resource, names):
                found[call.principal][call.family].add(Grant(grant.action, resource))
    return found


# What AWS checks on the caller's behalf when a service uses a key for it.
IMPLIED_KEY_USE: dict[str, tuple[str, frozenset[str]]] = {
    "s3:GetObject": ("s3", frozenset({"kms:Decrypt"})),
    "s3:PutObject": ("s3", frozenset({"kms:GenerateDataKey", "kms:Decrypt"})),
    "s3:CopyObject": ("s3", frozenset({"kms:GenerateDataKey", "kms:Decrypt"})),
    "s3:CreateMultipartUpload": ("s3", frozenset({"kms:GenerateDataKey", "kms:Decrypt"})),
    "s3:UploadPartCopy": ("s3", frozenset({"kms:GenerateDataKey", "kms:Decrypt"})),
    "rds:CopyDBSnapshot": ("rds", frozenset({"kms:CreateGrant", "kms:DescribeKey"})),
    "rds:RestoreDBInstanceFromDBSnapshot": (
        "rds",
        frozenset({"kms:CreateGrant", "kms:DescribeKey"}),
    ),
    "rds:RestoreDBInstanceToPointInTime": (
        "rds",
        frozenset({"kms:CreateGrant", "kms:DescribeKey"}),
    ),
    "sns:Publish": ("sns", frozenset({"kms:GenerateDataKey", "kms:Decrypt"})),
}


# Buckets on the DR side: their objects are encrypted with the DR region's key.
DR_SIDE_BUCKETS = (
    "{object_dr_bucket}",
    "{database_dr_bucket}",
    "{code_dr_bucket}",
    "{store_bucket}",
)


def key_region(call: Call, policy: BackupPolicy) -> str:
    """The region of the key behind a call's resource: a DR-side bucket's is the DR
    region, a source bucket's the production region, any other the call's own (a copy is
    made from the target's region, whatever region its source is in)."""
    bucket = call.resource.removeprefix(COPY_SOURCE)
    if call.service == "s3" and bucket.startswith(DR_SIDE_BUCKETS):
        return policy.regions.dr
    if call.service == "s3" and bucket.startswith("{source_bucket}"):
        return policy.regions.production
    return call.region


def implied_key_use(calls: Iterable[Call], policy: BackupPolicy) -> dict[tuple[str, str], set[str]]:
    """The KMS actions services take on the caller's behalf: ``{(region, service):
    actions}`` for SSE-KMS objects (a copy's source is only decrypted), encrypted
    snapshots and an encrypted topic."""
    used: dict[tuple[str, str], set[str]] = defaultdict(set)
    for call in calls:
        implied = IMPLIED_KEY_USE.get(f"{call.service}:{call.operation}")
        if implied is None:
            continue
        service, actions = implied
        if call.resource.startswith(COPY_SOURCE):
            actions = frozenset({"kms:Decrypt"})
        used[(key_region(call, policy), service)] |= actions
    return used


def required(
    calls: Iterable[Call], policy: BackupPolicy, store_bucket: str, account: Accounts
) -> dict[str, dict[str, set[Grant]]]:
    """``{connection: {family: grants}}`` every built document must allow, KMS included
    (on its key ARN pattern): what the statement-removal test evaluates against."""
    calls = set(calls)
    needed: dict[str, dict[str, set[Grant]]] = defaultdict(lambda: defaultdict(set))
    for principal, families in family_grants(calls, policy, store_bucket, account).items():
        for family, found in families.items():
            for grant in found:
                if grant.resource.startswith("kms:"):
                    region, _ = _kms_target(grant.resource)
                    grant = Grant(grant.action, _key_arn(account, region))
                needed[principal][family].add(grant)
            mine = [c for c in calls if c.principal == principal and c.family == family]
            for (region, _), actions in implied_key_use(mine, policy).items():
                for action in actions:
                    needed[principal][family].add(Grant(action, _key_arn(account, region)))
    return needed


def documents(
    calls: Iterable[Call], policy: BackupPolicy, store_bucket: str, account: Accounts = ACCOUNT
) -> dict[str, dict[str, dict[str, Any]]]:
    """``{connection: {family: IAM policy document}}``."""
    calls = sorted(set(calls))
    built: dict[str, dict[str, dict[str, Any]]] = {}
    for principal, families in sorted(family_grants(calls, policy, store_bucket, account).items()):
        built[principal] = {}
        for family, found in sorted(families.items()):
            mine = [c for c in calls if c.principal == principal and c.family == family]
            built[principal][family] = {
                "Version": "2012-10-17",
                "Statement": _statements(family, found, mine, policy, account),
            }
    for docs in built.values():
        for document in docs.values():
            _refuse_never_granted(document)
    return built


def _statements(
    family: str,
    found: set[Grant],
    calls: list[Call],
    policy: BackupPolicy,
    account: Accounts,
) -> list[dict[str, Any]]:
    """Statements of one family: actions that share their resources share a statement;
    KMS by alias and via the services; RDS deletes on the owner tag."""
    plain = [g for g in found if not g.resource.startswith("kms:")]
    by_action: dict[str, set[str]] = defaultdict(set)
    for grant in plain:
        by_action[grant.action].add(grant.resource)
    deletes = {a: r for a, r in by_action.items() if a in RDS_DELETES}
    by_resources: dict[tuple[str, ...], set[str]] = defaultdict(set)
    for action, resources in by_action.items():
        if action not in deletes:
            by_resources[_narrowest(resources)].add(action)
    name = _sid(family)
    statements: list[dict[str, Any]] = [
        {
            "Sid": f"{name}{index}",
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": list(resources) if len(resources) > 1 else resources[0],
        }
        for index, (resources, actions) in enumerate(sorted(by_resources.items()), start=1)
    ]
    for action, resources in sorted(deletes.items()):
        statements.append(
            {
                "Sid": f"{name}{action.split(':')[1]}OnlyOurOwn",
                "Effect": "Allow",
                "Action": action,
                "Resource": sorted(resources),
                "Condition": {"StringEquals": {f"aws:ResourceTag/{OWNER_KEY}": OWNER_VALUE}},
            }
        )
    direct: dict[str, set[str]] = defaultdict(set)
    for grant in found:
        if grant.resource.startswith("kms:"):
            direct[grant.resource.removeprefix("kms:")].add(grant.action)
    for target, actions in sorted(direct.items()):
        region, alias = _kms_target(f"kms:{target}")
        statements.append(
            {
                "Sid": f"{name}Key{_sid(region)}{_sid(alias or '')}",
                "Effect": "Allow",
                "Action": sorted(actions),
                "Resource": _key_arn(account, region),
                "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": [alias]}}
                if alias
                else key_condition(policy, [region]),
            }
        )
    via: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for (region, service), implied in implied_key_use(calls, policy).items():
        via[region][0].update(implied - direct.get(region, set()))
        via[region][1].add(f"{service}.{region}.amazonaws.com")
    for region, (actions, services) in sorted(via.items()):
        condition: dict[str, Any] = {
            **key_condition(policy, [region]),
            "StringEquals": {"kms:ViaService": sorted(services)},
        }
        # kms:GrantIsForAWSResource is in CreateGrant's request only: on a statement with
        # other actions it would refuse them, so grants get a statement of their own.
        for suffix, granted, extra in (
            ("ThroughServices", actions - {"kms:CreateGrant"}, {}),
            ("GrantsForServices", actions & {"kms:CreateGrant"}, GRANT_FOR_AWS_RESOURCE),
        ):
            if granted:
                statements.append(
                    {
                        "Sid": f"{name}Key{_sid(region)}{suffix}",
                        "Effect": "Allow",
                        "Action": sorted(granted),
                        "Resource": _key_arn(account, region),
                        "Condition": {**condition, **extra},
                    }
                )
    return statements


def _kms_target(resource: str) -> tuple[str, str | None]:
    """``kms:<region>`` (the policy's keys there) or ``kms:<region>:<alias>`` (one key)."""
    region, _, alias = resource.removeprefix("kms:").partition(":")
    return region, alias or None


def _key_arn(account: Accounts, region: str) -> str:
    return f"arn:aws:kms:{region}:{account_in(account, region)}:key/*"


def _narrowest(resources: set[str]) -> tuple[str, ...]:
    """The resources, without any that a wildcard among them already covers."""
    if "*" in resources:
        return ("*",)
    return tuple(sorted(resources))


def _sid(text: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def _refuse_never_granted(document: Mapping[str, Any]) -> None:
    for statement in document["Statement"]:
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            if action in NEVER_GRANTED:
                raise UngrantableCall(f"{statement['Sid']} would grant {action}")
            if action in RDS_DELETES and "Condition" not in statement:
                raise UngrantableCall(f"{statement['Sid']} would grant {action} untagged")
