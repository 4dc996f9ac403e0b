"""The tags that mark a backup as this product's, verified, and when it completed.

Retention deletes only what carries the owner tag, and the IAM policy
(infra/roles-*.json) allows RDS deletes only on resources that carry it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

OWNER_KEY = "managed-by"
OWNER_VALUE = "policy-backup"
VERIFIED_KEY = "backup-verified"
COMPLETED_KEY = "backup-completed-at"


def owner_tags() -> list[dict[str, str]]:
    """The owner tag in AWS's Key/Value list form."""
    return [{"Key": OWNER_KEY, "Value": OWNER_VALUE}]


def as_mapping(tag_list: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """AWS's ``[{"Key": k, "Value": v}]`` (boto3's typed tag lists too) as a plain dict."""
    return {str(tag["Key"]): str(tag["Value"]) for tag in tag_list}


def is_ours(tags: Mapping[str, str]) -> bool:
    return tags.get(OWNER_KEY) == OWNER_VALUE


def is_verified(tags: Mapping[str, str]) -> bool:
    return tags.get(VERIFIED_KEY) == "true"
