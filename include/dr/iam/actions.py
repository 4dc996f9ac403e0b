"""What IAM must allow for each recorded call: actions, and the ARNs they act on.

Most operations are authorised by the action of the same name. The exceptions are
S3's (``ListObjectsV2`` is ``s3:ListBucket``, a multipart upload is ``s3:PutObject``)
and the reads a copy makes of its source. Versioned reads are allowed beside plain
ones, because a restore names the version it reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from include.dr.iam.calls import COPY_SOURCE, Call

# S3 operations whose IAM action differs from the operation's name (or which need two).
S3_ACTIONS: dict[str, tuple[str, ...]] = {
    "ListObjects": ("s3:ListBucket",),
    "ListObjectsV2": ("s3:ListBucket",),
    "ListObjectVersions": ("s3:ListBucketVersions",),
    "HeadBucket": ("s3:ListBucket",),
    "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "GetObjectAttributes": ("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    "GetObjectTagging": ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "PutObjectTagging": ("s3:PutObjectTagging",),
    "CopyObject": ("s3:PutObject", "s3:PutObjectTagging"),
    "UploadPartCopy": ("s3:PutObject",),
    "CreateMultipartUpload": ("s3:PutObject", "s3:PutObjectTagging"),
    "UploadPart": ("s3:PutObject",),
    "CompleteMultipartUpload": ("s3:PutObject",),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload",),
    "ListMultipartUploads": ("s3:ListBucketMultipartUploads",),
    "ListParts": ("s3:ListMultipartUploadParts",),
    "DeleteObjects": ("s3:DeleteObject",),
    "GetBucketEncryption": ("s3:GetEncryptionConfiguration",),
    "PutBucketEncryption": ("s3:PutEncryptionConfiguration",),
    "GetBucketLifecycleConfiguration": ("s3:GetLifecycleConfiguration",),
    "PutBucketLifecycleConfiguration": ("s3:PutLifecycleConfiguration",),
    "GetPublicAccessBlock": ("s3:GetBucketPublicAccessBlock",),
    "PutPublicAccessBlock": ("s3:PutBucketPublicAccessBlock",),
    "GetObjectLockConfiguration": ("s3:GetBucketObjectLockConfiguration",),
    "GetBucketOwnershipControls": ("s3:GetBucketOwnershipControls",),
}
# Operations sent to a bucket but authorised on each key they name (DeleteObjects).
PER_KEY = frozenset({"DeleteObjects"})
# What reading a copy's source takes (tags too: a copy keeps them).
COPY_SOURCE_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectVersionTagging")
# RDS operations that tag what they create: tagging on create is authorised as
# rds:AddTagsToResource on the new resource (a snapshot, or an instance).
TAGGED_ON_CREATE = {
    "CreateDBSnapshot": "snapshot:",
    "CopyDBSnapshot": "snapshot:",
    "CreateDBInstance": "db:",
    "RestoreDBInstanceFromDBSnapshot": "db:",
    "RestoreDBInstanceToPointInTime": "db:",
}
# Operations authorised under another service's prefix.
SERVICE_PREFIX = {"s3": "s3", "rds": "rds", "kms": "kms", "sns": "sns", "sts": "sts"}


@dataclass(frozen=True, order=True)
class Grant:
    """One action on one resource pattern (an ARN with ``*`` where names vary)."""

    action: str
    resource: str


def arn(call: Call, resource: str, account: str) -> str:
    """The ARN pattern of a recorded resource."""
    if resource == "*":
        return "*"
    if call.service == "s3":
        return f"arn:aws:s3:::{resource.removeprefix(COPY_SOURCE)}"
    if resource.startswith("arn:"):
        return resource
    if call.service == "kms":
        kind = "" if resource.startswith(("alias/", "key/")) else "key/"
        return f"arn:aws:kms:{call.region}:{account}:{kind}{resource}"
    if call.service == "sns":
        return f"arn:aws:sns:{call.region}:{account}:{resource}"
    if call.service == "cloudtrail":
        return f"arn:aws:cloudtrail:{call.region}:{account}:trail/{resource}"
    return f"arn:aws:{call.service}:{call.region}:{account}:{resource}"


def grants(call: Call, account: str) -> list[Grant]:
    """What IAM must allow for ``call`` to succeed."""
    target = arn(call, call.resource, account)
    if call.service == "s3" and call.resource.startswith(COPY_SOURCE):
        return [Grant(action, target) for action in COPY_SOURCE_ACTIONS]
    if call.service == "s3":
        actions = S3_ACTIONS.get(call.operation, (f"s3:{call.operation}",))
        if call.operation in PER_KEY and not target.endswith("/*"):
            target += "/*"  # named by bucket, authorised key by key
        return [Grant(action, target) for action in actions]
    prefix = SERVICE_PREFIX.get(call.service, call.service)
    found = [Grant(f"{prefix}:{call.operation}", target)]
    created = TAGGED_ON_CREATE.get(call.operation) if call.service == "rds" else None
    if created and call.resource.startswith(created) and "*" in call.resource:
        found.append(Grant("rds:AddTagsToResource", target))  # a new one: named by pattern
    return found
