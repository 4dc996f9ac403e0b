"""Resolving the policy's KMS key names to key ARNs, refusing keys that cannot encrypt."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


class KeyUnavailable(ValueError):
    """The policy's key is missing or disabled in its region; nothing should be written."""


def resolve_key(kms: Any, key: str, region: str) -> str:
    """The ARN of ``key`` (alias, id or ARN) in ``region``, which must be enabled."""
    try:
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
    except ClientError as exc:
        raise KeyUnavailable(
            f"KMS key {key} was not found in {region} ({exc.response['Error']['Code']}); "
            f"create it there or correct kms_keys.{region} in the policy file"
        ) from None
    state = metadata.get("KeyState", "Enabled" if metadata.get("Enabled", True) else "Disabled")
    if state != "Enabled":
        raise KeyUnavailable(f"KMS key {metadata['Arn']} in {region} is {state}; enable it")
    return str(metadata["Arn"])
