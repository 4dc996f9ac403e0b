"""The DR key beyond production's reach: its key policy denies, to every principal of the
production account, what would make the DR copies unreadable.

Object Lock keeps every DR version, but a version is only as good as the key that
decrypts it: a key disabled, or deleted after its waiting period, loses every backup at
once. An explicit Deny in the key policy is the one control an IAM administrator of the
production account cannot lift (a key policy is changed only from the key's own
account), so the DR template writes one (:data:`GUARD_SID`) naming the production
account, and the preflight and the compliance evaluation check it is there.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from botocore.exceptions import ClientError

from include.dr.checks import Check
from include.dr.errors import error_code, from_client_error, is_transient

GUARD_SID = "ProductionMayNeverDisableOrDeleteThisKey"
# What would make the DR copies unreadable, or let production rewrite the policy itself.
DESTRUCTIVE_ACTIONS = (
    "kms:ScheduleKeyDeletion",
    "kms:DisableKey",
    "kms:PutKeyPolicy",
    "kms:DeleteImportedKeyMaterial",
)
CHECK_NAME = "dr_key_guarded"
# The evidence packs' signing key: production may neither change it nor sign with it (a
# signature production could make would prove nothing about the DR side's evidence).
SIGNING_GUARD_ACTIONS = (*DESTRUCTIVE_ACTIONS, "kms:Sign")


def guard_statement(
    production_principal: str, actions: tuple[str, ...] = DESTRUCTIVE_ACTIONS
) -> dict[str, Any]:
    """The key-policy statement that denies the destructive ``actions`` to production."""
    return {
        "Sid": GUARD_SID,
        "Effect": "Deny",
        "Principal": {"AWS": production_principal},
        "Action": list(actions),
        "Resource": "*",
    }


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _covers_account(principal: Any, account: str) -> bool:
    """Whether a statement's principal takes in every principal of ``account``."""
    if principal == "*":
        return True
    names = _as_list(principal.get("AWS") if isinstance(principal, Mapping) else None)
    return any(name in ("*", account) or name.endswith(f":{account}:root") for name in names)


def unguarded(document: Mapping[str, Any], production_account: str) -> list[str]:
    """The destructive actions no unconditional Deny in ``document`` denies to every
    principal of ``production_account``."""
    denied = [
        statement
        for statement in document.get("Statement", [])
        if statement.get("Effect") == "Deny"
        and not statement.get("Condition")
        and _covers_account(statement.get("Principal"), production_account)
    ]
    return [
        action
        for action in DESTRUCTIVE_ACTIONS
        if not any(
            fnmatchcase(action, pattern)
            for statement in denied
            for pattern in _as_list(statement.get("Action"))
        )
    ]


def check_key_guarded(kms: Any, key_arn: str, production_account: str) -> Check:
    """The DR key's policy denies every production principal the destructive actions."""
    expected = f"key policy denies {', '.join(DESTRUCTIVE_ACTIONS)} to account {production_account}"
    fix = (
        f"add the statement {GUARD_SID!r} of infra/dr.json to the DR key's policy "
        "(from the DR account: production cannot change it)"
    )
    try:
        policy = kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"]
    except ClientError as exc:
        if is_transient(exc):
            raise from_client_error(exc, f"reading the policy of {key_arn}") from exc
        found = f"unreadable: KMS answered {error_code(exc)} (needs kms:GetKeyPolicy)"
        return Check(CHECK_NAME, key_arn, False, expected, found, fix)
    missing = unguarded(json.loads(policy), production_account)
    found = f"not denied: {', '.join(missing)}" if missing else "all denied"
    return Check(CHECK_NAME, key_arn, not missing, expected, found, fix if missing else "")
