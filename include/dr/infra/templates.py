"""The AWS estate the policy file describes, as CloudFormation templates.

Three stacks, deployed in this order (README, "Pointing it at real AWS"):

1. ``roles`` (any region; IAM is global): one role per connection, each with one
   managed policy per DAG family, built from the recorded call inventory;
2. ``production`` (the production region): the production key, the alerts topic, the
   multi-region CloudTrail trail and its log bucket;
3. ``dr`` (the DR region): the DR key, the evidence packs' signing key and every DR
   bucket, the store's included.

The key policies name the roles, so the roles come first; the roles name the keys by
alias (``kms:ResourceAliases``), so they need no key ARN. Everything stateful is
retained when a stack is deleted.
"""

from __future__ import annotations

import json
from typing import Any

from include.dr.connections import AWS_DR
from include.dr.evidence_pack.signing import KEY_SPEC, SIGNING_ALIAS
from include.dr.iam.policies import ROLES, SIDES
from include.dr.key_guard import SIGNING_GUARD_ACTIONS, guard_statement
from include.dr.policy.model import BackupPolicy
from include.dr.s3.guardrails import LIFECYCLE_FLOOR_DAYS, lifecycle_rule, tls_statement
from include.dr.s3.object_lock import lock_configuration
from include.dr.tags import OWNER_KEY, OWNER_VALUE

TRAIL_NAME = "organisation-trail"
TRAIL_BUCKET_SUFFIX = "cloudtrail-logs"
ABORT_MULTIPART_DAYS = 7
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}
OWNER = [{"Key": OWNER_KEY, "Value": OWNER_VALUE}]
# The administration a key's account keeps: never its use, never its deletion by a role.
KEY_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Get*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:CancelKeyDeletion",
]
KEY_USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
]
# checkov findings left unfixed, each with its reason (listed in the README too).
CHECKOV_SKIPS = {
    "CKV_AWS_18": "Object-level access is logged by the trail's S3 data events on this "
    "bucket; server access logs would need a log bucket of their own per region.",
    "CKV_AWS_7": "An asymmetric signing key cannot rotate automatically (KMS rotates "
    "symmetric keys only); a new key and alias replace it, and old packs name their key.",
}
PRODUCTION_ROOT = "arn:${AWS::Partition}:iam::${ProductionAccountId}:root"


def role_arns(side: str, account: str = "${AWS::AccountId}") -> list[str]:
    """The ARNs of the roles of one side (``production`` or ``dr``), in ``account``."""
    return [
        f"arn:${{AWS::Partition}}:iam::{account}:role/{ROLES[conn]}"
        for conn, where in SIDES.items()
        if where == side
    ]


# Every key's first statement: its own account administers it (and so may grant it).
ACCOUNT_ADMINISTERS_THE_KEY: dict[str, Any] = {
    "Sid": "AccountAdministersTheKey",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
    "Action": KEY_ADMIN_ACTIONS,
    "Resource": "*",
}


def key_policy(
    role_arns: list[str], region: str, services: list[str], extra: tuple[dict[str, Any], ...] = ()
) -> dict[str, str]:
    """The account administers the key; the roles use it only through ``services``.

    Written as a string (``Fn::Sub``) because moto keeps an object KeyPolicy as a
    mapping and then cannot describe the key."""
    document = {
        "Version": "2012-10-17",
        "Statement": [
            ACCOUNT_ADMINISTERS_THE_KEY,
            {
                "Sid": "BackupRolesUseItThroughTheServices",
                "Effect": "Allow",
                "Principal": {"AWS": role_arns},
                "Action": KEY_USE_ACTIONS,
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [f"{s}.{region}.amazonaws.com" for s in services]
                    }
                },
            },
            {
                "Sid": "BackupRolesDescribeTheKey",
                "Effect": "Allow",
                "Principal": {"AWS": role_arns},
                "Action": ["kms:DescribeKey"],
                "Resource": "*",
            },
            {
                "Sid": "ServicesTakeGrantsForTheirOwnResources",
                "Effect": "Allow",
                "Principal": {"AWS": role_arns},
                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
            },
            *extra,
        ],
    }
    return {"Fn::Sub": json.dumps(document, indent=2)}


# The trail encrypts its log files with the production key.
CLOUDTRAIL_USES_THE_KEY = {
    "Sid": "CloudTrailEncryptsLogs",
    "Effect": "Allow",
    "Principal": {"Service": "cloudtrail.amazonaws.com"},
    "Action": ["kms:GenerateDataKey*", "kms:DescribeKey"],
    "Resource": "*",
    "Condition": {
        "StringLike": {
            "kms:EncryptionContext:aws:cloudtrail:arn": "arn:${AWS::Partition}:cloudtrail:*:"
            "${AWS::AccountId}:trail/*"
        }
    },
}


def kms_key(description: str, policy: dict[str, str]) -> dict[str, Any]:
    return {
        "Type": "AWS::KMS::Key",
        **RETAIN,
        "Properties": {
            "Description": description,
            "EnableKeyRotation": True,
            "KeyPolicy": policy,
        },
    }


def signing_key_policy() -> dict[str, str]:
    """The DR account administers the signing key; only the DR writer role (which builds
    evidence packs) signs with it and reads its public half; production may neither sign
    nor change it (:data:`~include.dr.key_guard.SIGNING_GUARD_ACTIONS`)."""
    writer = f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{ROLES[AWS_DR]}"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            ACCOUNT_ADMINISTERS_THE_KEY,
            {
                "Sid": "PackBuilderSigns",
                "Effect": "Allow",
                "Principal": {"AWS": writer},
                "Action": ["kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"],
                "Resource": "*",
            },
            guard_statement(PRODUCTION_ROOT, SIGNING_GUARD_ACTIONS),
        ],
    }
    return {"Fn::Sub": json.dumps(document, indent=2)}


def signing_key(description: str) -> dict[str, Any]:
    """The evidence packs' signing key: asymmetric, its private half never leaves KMS."""
    return {
        "Type": "AWS::KMS::Key",
        **RETAIN,
        "Metadata": _checkov_skips("CKV_AWS_7"),
        "Properties": {
            "Description": description,
            "KeySpec": KEY_SPEC,
            "KeyUsage": "SIGN_VERIFY",
            "KeyPolicy": signing_key_policy(),
        },
    }


def private_bucket(name: Any, key: str, **properties: Any) -> dict[str, Any]:
    """A versioned bucket, SSE-KMS with ``key`` (a logical id) and S3 Bucket Keys, Block
    Public Access, owner-enforced objects, retained when its stack goes."""
    return {
        "Type": "AWS::S3::Bucket",
        **RETAIN,
        "Metadata": _checkov_skips("CKV_AWS_18"),
        "Properties": {
            "BucketName": name,
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {
                        "ServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]},
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
            **properties,
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
            "Tags": OWNER,
        },
    }


def dr_bucket(name: str, minimum_days: int) -> dict[str, Any]:
    """A DR bucket: private, with the DR key; every version locked (compliance mode) and
    noncurrent versions kept at least the policy minimum; incomplete multipart uploads
    aborted."""
    keep = lifecycle_rule(max(LIFECYCLE_FLOOR_DAYS, minimum_days))
    lifecycle = {
        "Rules": [
            {
                "Id": keep["ID"],
                "Status": "Enabled",
                "NoncurrentVersionExpiration": {
                    "NoncurrentDays": keep["NoncurrentVersionExpiration"]["NoncurrentDays"]
                },
            },
            {
                "Id": "abort-incomplete-multipart-uploads",
                "Status": "Enabled",
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
            },
        ]
    }
    return private_bucket(
        name,
        "DrKey",
        LifecycleConfiguration=lifecycle,
        ObjectLockEnabled=True,
        ObjectLockConfiguration=lock_configuration(minimum_days),
    )


def tls_only(logical: str, name: str) -> dict[str, Any]:
    """The bucket policy that refuses plain HTTP: the same statement the guardrail checks."""
    return {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": logical},
            "PolicyDocument": {"Version": "2012-10-17", "Statement": [tls_statement(name)]},
        },
    }


def logical_id(bucket: str) -> str:
    return "".join(part.capitalize() for part in bucket.replace(".", "-").split("-")) + "Bucket"


def dr_buckets(policy: BackupPolicy, store_bucket: str) -> list[str]:
    """Every bucket on the DR side: each asset's, the code bundles' and the store's."""
    return [*policy.assets.dr_buckets, store_bucket]


def dr_template(policy: BackupPolicy, store_bucket: str) -> dict[str, Any]:
    dr = policy.regions.dr
    resources: dict[str, Any] = {
        "DrKey": kms_key(
            f"{policy.company} backups, DR side ({dr})",
            key_policy(
                role_arns("dr"),
                dr,
                ["s3", "rds"],
                (guard_statement(PRODUCTION_ROOT),),
            ),
        ),
        "DrKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": policy.kms_key(dr), "TargetKeyId": {"Ref": "DrKey"}},
        },
        "EvidenceSigningKey": signing_key(
            f"{policy.company} backups: signs the auditors' evidence packs ({dr})"
        ),
        "EvidenceSigningKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": SIGNING_ALIAS,
                "TargetKeyId": {"Ref": "EvidenceSigningKey"},
            },
        },
    }
    for bucket in dr_buckets(policy, store_bucket):
        logical = logical_id(bucket)
        resources[logical] = dr_bucket(bucket, policy.retention.minimum_days)
        resources[f"{logical}Policy"] = tls_only(logical, bucket)
    template = _template(
        f"{policy.company} backups: the DR key, the evidence signing key and the DR buckets "
        f"({dr}). Generated from include/policy.yaml by `make infra`; do not edit.",
        resources,
        {
            "DrKeyArn": {"Value": {"Fn::GetAtt": ["DrKey", "Arn"]}},
            "EvidenceSigningKeyArn": {"Value": {"Fn::GetAtt": ["EvidenceSigningKey", "Arn"]}},
        },
    )
    return {"Parameters": PRODUCTION_ACCOUNT_PARAMETER, **template}


def production_template(policy: BackupPolicy) -> dict[str, Any]:
    prod = policy.regions.production
    trail_bucket = {"Fn::Sub": f"${{AWS::AccountId}}-{TRAIL_BUCKET_SUFFIX}"}
    data_buckets = [f"arn:aws:s3:::{bucket}/" for bucket in policy.assets.dr_buckets]
    resources: dict[str, Any] = {
        "ProductionKey": kms_key(
            f"{policy.company} backups, production side ({prod})",
            # The DR roles read the sources and copy the shared snapshots from the DR
            # account; the restore operator writes restores into the source buckets.
            key_policy(
                role_arns("production") + role_arns("dr", "${DrAccountId}"),
                prod,
                ["s3", "rds", "sns"],
                (CLOUDTRAIL_USES_THE_KEY,),
            ),
        ),
        "ProductionKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": policy.kms_key(prod),
                "TargetKeyId": {"Ref": "ProductionKey"},
            },
        },
        "AlertsTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {
                "TopicName": policy.alerts.topic_name,
                "KmsMasterKeyId": {"Ref": "ProductionKey"},
                "Tags": OWNER,
            },
        },
        "TrailBucket": private_bucket(trail_bucket, "ProductionKey"),
        "TrailBucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "TrailBucket"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CloudTrailChecksTheAcl",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                            "Action": "s3:GetBucketAcl",
                            "Resource": {"Fn::GetAtt": ["TrailBucket", "Arn"]},
                        },
                        {
                            "Sid": "CloudTrailWritesLogs",
                            "Effect": "Allow",
                            "Principal": {"Service": "cloudtrail.amazonaws.com"},
                            "Action": "s3:PutObject",
                            "Resource": {
                                "Fn::Sub": "${TrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*"
                            },
                        },
                        tls_statement("${TrailBucket}") | {"Resource": _tls_resources()},
                    ],
                },
            },
        },
        "Trail": {
            "Type": "AWS::CloudTrail::Trail",
            "DependsOn": ["TrailBucketPolicy"],
            "Properties": {
                "TrailName": TRAIL_NAME,
                "S3BucketName": {"Ref": "TrailBucket"},
                "IsLogging": True,
                "IsMultiRegionTrail": True,
                "IncludeGlobalServiceEvents": True,
                "EnableLogFileValidation": True,
                "KMSKeyId": {"Ref": "ProductionKey"},
                "EventSelectors": [
                    {
                        "ReadWriteType": "All",
                        "IncludeManagementEvents": True,
                        "DataResources": [{"Type": "AWS::S3::Object", "Values": data_buckets}],
                    }
                ],
                "Tags": OWNER,
            },
        },
    }
    template = _template(
        f"{policy.company} backups: the production key, the alerts topic and the "
        f"multi-region trail ({prod}). Generated from include/policy.yaml by `make infra`; "
        "do not edit.",
        resources,
        {
            "ProductionKeyArn": {"Value": {"Fn::GetAtt": ["ProductionKey", "Arn"]}},
            "AlertsTopicArn": {"Value": {"Ref": "AlertsTopic"}},
        },
    )
    return {"Parameters": DR_ACCOUNT_PARAMETER, **template}


def _tls_resources() -> list[dict[str, Any]]:
    return [{"Fn::GetAtt": ["TrailBucket", "Arn"]}, {"Fn::Sub": "${TrailBucket.Arn}/*"}]


def _checkov_skips(*ids: str) -> dict[str, Any]:
    return {"checkov": {"skip": [{"id": i, "comment": CHECKOV_SKIPS[i]} for i in ids]}}


def _template(
    description: str, resources: dict[str, Any], outputs: dict[str, Any]
) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Resources": resources,
        "Outputs": outputs,
    }


DR_ACCOUNT_PARAMETER: dict[str, Any] = {
    "DrAccountId": {
        "Type": "String",
        "AllowedPattern": "^[0-9]{12}$",
        "Description": "The DR account, whose roles read the sources, copy the shared "
        "snapshots and restore, through this account's key.",
    }
}
PRODUCTION_ACCOUNT_PARAMETER: dict[str, Any] = {
    "ProductionAccountId": {
        "Type": "String",
        "AllowedPattern": "^[0-9]{12}$",
        "Description": "The production account: every principal of it is denied disabling, "
        "deleting or re-policying the DR key; the DR roles copy its snapshots and read its "
        "sources across accounts.",
    }
}
TRUST_PARAMETERS: dict[str, Any] = {
    "DeploymentTarget": {
        "Type": "String",
        "AllowedValues": ["mwaa", "kubernetes", "principal"],
        "Default": "principal",
        "Description": "Who assumes the roles: MWAA's service, a Kubernetes service account "
        "(IRSA: EKS, or Astro's workload identity on EKS), or a named IAM principal (an "
        "Astro workload identity role, a CI role).",
    },
    "TrustedPrincipalArn": {
        "Type": "String",
        "Default": "",
        "Description": "For 'principal': the IAM role or user ARN allowed to assume the roles.",
    },
    "OidcProviderArn": {
        "Type": "String",
        "Default": "",
        "Description": "For 'kubernetes': the cluster's IAM OIDC provider ARN.",
    },
    "OidcProviderHost": {
        "Type": "String",
        "Default": "",
        "Description": "For 'kubernetes': the provider's host and path "
        "(oidc.eks.REGION.amazonaws.com/id/ID).",
    },
    "ServiceAccount": {
        "Type": "String",
        "Default": "system:serviceaccount:airflow:airflow-worker",
        "Description": "For 'kubernetes': the workers' service account subject.",
    },
}
TRUST_CONDITIONS = {
    "ForMwaa": {"Fn::Equals": [{"Ref": "DeploymentTarget"}, "mwaa"]},
    "ForKubernetes": {"Fn::Equals": [{"Ref": "DeploymentTarget"}, "kubernetes"]},
}


def trust_policy() -> dict[str, Any]:
    """Who may assume a role, by deployment target (a template parameter). The
    Kubernetes document is a ``Fn::Sub`` string: its condition key holds a parameter."""
    mwaa = {
        "Effect": "Allow",
        "Principal": {"Service": ["airflow.amazonaws.com", "airflow-env.amazonaws.com"]},
        "Action": "sts:AssumeRole",
    }
    kubernetes = {
        "Effect": "Allow",
        "Principal": {"Federated": "${OidcProviderArn}"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"${OidcProviderHost}:sub": "${ServiceAccount}"}},
    }
    principal = {
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "TrustedPrincipalArn"}},
        "Action": "sts:AssumeRole",
    }

    def document(statement: dict[str, Any]) -> dict[str, Any]:
        return {"Version": "2012-10-17", "Statement": [statement]}

    return {
        "Fn::If": [
            "ForMwaa",
            document(mwaa),
            {
                "Fn::If": [
                    "ForKubernetes",
                    {"Fn::Sub": json.dumps(document(kubernetes))},
                    document(principal),
                ]
            },
        ]
    }


def roles_template(
    policy: BackupPolicy, documents: dict[str, dict[str, dict[str, Any]]], side: str
) -> dict[str, Any]:
    """One role per connection of ``side`` (its account); one managed policy per DAG
    family of its calls (a managed policy holds 6,144 characters, and a family reads as
    one unit). ``documents`` name the other account's resources by its parameter."""
    resources: dict[str, Any] = {}
    mine = {conn: role for conn, role in ROLES.items() if SIDES[conn] == side}
    for connection, role in mine.items():
        logical = _logical(role)
        resources[logical] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": role,
                "Description": f"{policy.company} backups: the {connection} connection.",
                "AssumeRolePolicyDocument": trust_policy(),
                "MaxSessionDuration": 3600,
                "Tags": OWNER,
            },
        }
        for family, document in documents.get(connection, {}).items():
            resources[f"{logical}{_logical(family)}"] = {
                "Type": "AWS::IAM::ManagedPolicy",
                "Properties": {
                    "ManagedPolicyName": f"{role}-{family}".replace("_", "-"),
                    "Description": f"What {family} does with the {connection} connection "
                    "(from the recorded call inventory).",
                    "PolicyDocument": _with_account(document),
                    "Roles": [{"Ref": logical}],
                },
            }
    account = "the DR account" if side == "dr" else "the production account"
    template = _template(
        f"{policy.company} backups: the workers' roles in {account} and their "
        "least-privilege policies. Generated from include/policy.yaml and "
        "infra/call-inventory.json by `make infra`; do not edit.",
        resources,
        {
            f"{_logical(role)}Arn": {"Value": {"Fn::GetAtt": [_logical(role), "Arn"]}}
            for role in mine.values()
        },
    )
    other = PRODUCTION_ACCOUNT_PARAMETER if side == "dr" else DR_ACCOUNT_PARAMETER
    named = {name: p for name, p in other.items() if f"${{{name}}}" in json.dumps(resources)}
    return {
        **template,
        "Parameters": {**TRUST_PARAMETERS, **named},
        "Conditions": TRUST_CONDITIONS,
    }


def _logical(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace("_", "-").split("-"))


def _with_account(value: Any) -> Any:
    """``${AWS::AccountId}`` in a document's strings, made a ``Fn::Sub`` where it occurs."""
    if isinstance(value, dict):
        return {key: _with_account(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_account(item) for item in value]
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": value}
    return value
