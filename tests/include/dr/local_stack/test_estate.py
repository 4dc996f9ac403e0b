"""The local stack's estate is the templates' estate: each property a template gives, read
back from the moto server (through CloudFormation where moto applies it, through the API
where it does not; include/dr/local_stack/estate.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from include.dr.iam.policies import ROLES, SIDES
from include.dr.infra.files import committed_templates
from include.dr.local_stack.estate import STACK_NAMES
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from include.dr.s3.object_lock import lock_terms

POLICY = load_policy()
TEMPLATES = committed_templates()


def buckets(template: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::S3::Bucket"
    ]


def test_every_stack_was_created(local_stack: Path, settings: LocalSettings) -> None:
    for stack, region in (
        ("roles-production", POLICY.regions.production),
        ("roles-dr", POLICY.regions.dr),
        ("production", POLICY.regions.production),
        ("dr", POLICY.regions.dr),
    ):
        cloudformation = aws_client(settings, "cloudformation", region)
        (found,) = cloudformation.describe_stacks(StackName=STACK_NAMES[stack])["Stacks"]
        assert found["StackStatus"] == "CREATE_COMPLETE", stack


def test_each_dr_bucket_reads_back_as_its_template_says(
    local_stack: Path, settings: LocalSettings
) -> None:
    s3 = aws_client(settings, "s3", POLICY.regions.dr)
    kms = aws_client(settings, "kms", POLICY.regions.dr)
    key = kms.describe_key(KeyId=POLICY.kms_key(POLICY.regions.dr))["KeyMetadata"]["Arn"]
    for props in buckets(TEMPLATES["dr"]):
        name = props["BucketName"]
        assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled", name
        (rule,) = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"][
            "Rules"
        ]
        assert rule["ApplyServerSideEncryptionByDefault"] == {
            "SSEAlgorithm": "aws:kms",
            "KMSMasterKeyID": key,
        }
        assert rule["BucketKeyEnabled"] is True
        lifecycle = s3.get_bucket_lifecycle_configuration(Bucket=name)["Rules"]
        expected = props["LifecycleConfiguration"]["Rules"]
        assert {r["ID"]: r.get("NoncurrentVersionExpiration") for r in lifecycle} == {
            r["Id"]: r.get("NoncurrentVersionExpiration") for r in expected
        }
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert block == props["PublicAccessBlockConfiguration"]
        ownership = s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]
        assert ownership == props["OwnershipControls"]
        lock = s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
        assert props["ObjectLockEnabled"] is True
        assert lock_terms(lock) == lock_terms(props["ObjectLockConfiguration"]), name


def test_the_keys_rotate_and_the_trail_topic_and_roles_exist(
    local_stack: Path, settings: LocalSettings
) -> None:
    for region in (POLICY.regions.production, POLICY.regions.dr):
        kms = aws_client(settings, "kms", region)
        key = kms.describe_key(KeyId=POLICY.kms_key(region))["KeyMetadata"]["KeyId"]
        assert kms.get_key_rotation_status(KeyId=key)["KeyRotationEnabled"] is True
    cloudtrail = aws_client(settings, "cloudtrail", POLICY.regions.production)
    (trail,) = [
        t for t in cloudtrail.describe_trails()["trailList"] if t["Name"] == "organisation-trail"
    ]
    assert trail["IsMultiRegionTrail"] and trail["LogFileValidationEnabled"]
    assert cloudtrail.get_trail_status(Name=trail["Name"])["IsLogging"] is True
    sns = aws_client(settings, "sns", POLICY.alerts.region)
    assert POLICY.alerts.sns_topic_arn in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    for connection, role in ROLES.items():  # each in its own account
        side = POLICY.regions.production if SIDES[connection] == "production" else POLICY.regions.dr
        iam = aws_client(settings, "iam", side)
        attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        assert attached, f"{role} holds no policy"


@pytest.mark.parametrize("stack", sorted(TEMPLATES))
def test_every_resource_type_is_made_by_cloudformation_or_by_the_api(stack: str) -> None:
    """moto's CloudFormation has no trail and applies few bucket properties: those, and
    only those, are completed through the API (estate.complete)."""
    kinds = {r["Type"] for r in TEMPLATES[stack]["Resources"].values()}
    assert kinds <= {
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",  # not applied on the local stack (README)
        "AWS::SNS::Topic",
        "AWS::CloudTrail::Trail",
        "AWS::IAM::Role",
        "AWS::IAM::ManagedPolicy",
    }


def test_the_evidence_signing_key_is_asymmetric_and_its_digest_signatures_verify(
    local_stack: Path, settings: LocalSettings
) -> None:
    """moto's CloudFormation makes every key symmetric and moto signs a digest as if it
    were the message: both corrected, so openssl checks what the local KMS signs."""
    import hashlib

    from include.dr.evidence_pack.signing import ALGORITHM, KEY_SPEC, SIGNING_ALIAS
    from include.dr.evidence_pack.verify import signature_holds

    kms = aws_client(settings, "kms", POLICY.regions.dr)
    meta = kms.describe_key(KeyId=SIGNING_ALIAS)["KeyMetadata"]
    assert (meta["KeySpec"], meta["KeyUsage"]) == (KEY_SPEC, "SIGN_VERIFY")
    data = b"a manifest longer than KMS signs raw " * 200
    signature = kms.sign(
        KeyId=SIGNING_ALIAS,
        Message=hashlib.sha256(data).digest(),
        MessageType="DIGEST",
        SigningAlgorithm=ALGORITHM,
    )["Signature"]
    public = kms.get_public_key(KeyId=SIGNING_ALIAS)["PublicKey"]
    assert signature_holds(public, ALGORITHM, data, signature)
    assert not signature_holds(public, ALGORITHM, data + b" ", signature)
