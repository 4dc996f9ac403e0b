"""Resolving the policy's KMS key names to key ARNs, refusing keys that cannot encrypt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from include.dr.errors import Permanent, error_code, from_client_error, is_transient

if TYPE_CHECKING:
    from types_boto3_kms import KMSClient


class KeyUnavailable(Permanent):
    """The policy's key is missing or disabled in its region; nothing should be written.

    Permanent everywhere: retrying cannot create or enable a key; a person must."""


def resolve_key(kms: KMSClient, key: str, region: str) -> str:
    """The ARN of ``key`` (alias, id or ARN) in ``region``, which must be enabled.

    AWS asking to try again later (throttling, a KMS hiccup) is :class:`Transient`."""
    try:
        metadata = kms.describe_key(KeyId=key)["KeyMetadata"]
    except ClientError as exc:
        if is_transient(exc):
            raise from_client_error(exc, f"reading KMS key {key} in {region}") from exc
        raise KeyUnavailable(
            f"KMS key {key} was not found in {region} ({error_code(exc)}); "
            f"create it there or correct kms_keys.{region} in the policy file"
        ) from None
    state = metadata.get("KeyState", "Enabled" if metadata.get("Enabled", True) else "Disabled")
    if state != "Enabled":
        raise KeyUnavailable(f"KMS key {metadata['Arn']} in {region} is {state}; enable it")
    return str(metadata["Arn"])
