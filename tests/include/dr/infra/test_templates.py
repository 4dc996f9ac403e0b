"""The estate's templates: generated from the policy file, and what they promise."""

from __future__ import annotations

import json
from typing import Any

from include.dr.iam.policies import ROLES, SIDES
from include.dr.infra.files import committed_calls, committed_templates, templates
from include.dr.infra.templates import dr_template
from include.dr.local_stack.settings import STORE_BUCKET
from include.dr.policy.loader import load_policy

POLICY = load_policy()
COMMITTED = committed_templates()


def of_type(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def test_the_committed_templates_are_what_the_policy_file_and_inventory_generate() -> None:
    assert templates(POLICY, committed_calls()) == COMMITTED, "run `make infra` and commit"


def test_every_dr_bucket_is_versioned_encrypted_kept_private_and_retained() -> None:
    buckets = {
        b["Properties"]["BucketName"]: b for b in of_type(COMMITTED["dr"], "AWS::S3::Bucket")
    }
    assert set(buckets) == {*POLICY.assets.dr_buckets, STORE_BUCKET}
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
        assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
            "Fn::GetAtt": ["DrKey", "Arn"]
        }
        assert rule["BucketKeyEnabled"] is True
        rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
        kept = rules["keep-noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"]
        assert kept >= POLICY.retention.minimum_days
        assert "AbortIncompleteMultipartUpload" in rules["abort-incomplete-multipart-uploads"]
        assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
        assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    policies = of_type(COMMITTED["dr"], "AWS::S3::BucketPolicy")
    assert len(policies) == len(buckets)
    for policy in policies:
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_each_key_rotates_and_lets_the_roles_use_it_only_through_the_services() -> None:
    for stack, region in (("production", POLICY.regions.production), ("dr", POLICY.regions.dr)):
        (key,) = [
            k
            for k in of_type(COMMITTED[stack], "AWS::KMS::Key")
            if "KeySpec" not in k["Properties"]
        ]
        assert key["Properties"]["EnableKeyRotation"] is True
        document = json.loads(key["Properties"]["KeyPolicy"]["Fn::Sub"])
        by_sid = {s["Sid"]: s for s in document["Statement"]}
        use = by_sid["BackupRolesUseItThroughTheServices"]
        assert all(
            f".{region}.amazonaws.com" in s
            for s in use["Condition"]["StringEquals"]["kms:ViaService"]
        )
        administer = by_sid["AccountAdministersTheKey"]["Action"]
        assert not {"kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:Decrypt"} & set(administer)
        aliases = [
            a["Properties"]["AliasName"] for a in of_type(COMMITTED[stack], "AWS::KMS::Alias")
        ]
        assert POLICY.kms_key(region) in aliases


def test_the_evidence_signing_key_signs_for_the_dr_writer_only_never_for_production() -> None:
    """Asymmetric (its private half never leaves KMS), in the DR account; the DR writer
    role signs and reads the public key; every production principal is denied signing
    and what would change or destroy the key."""
    from include.dr.evidence_pack.signing import KEY_SPEC, SIGNING_ALIAS
    from include.dr.key_guard import DESTRUCTIVE_ACTIONS

    resources = COMMITTED["dr"]["Resources"]
    key = resources["EvidenceSigningKey"]["Properties"]
    assert (key["KeySpec"], key["KeyUsage"]) == (KEY_SPEC, "SIGN_VERIFY")
    assert resources["EvidenceSigningKeyAlias"]["Properties"] == {
        "AliasName": SIGNING_ALIAS,
        "TargetKeyId": {"Ref": "EvidenceSigningKey"},
    }
    by_sid = {s["Sid"]: s for s in json.loads(key["KeyPolicy"]["Fn::Sub"])["Statement"]}
    signs = by_sid["PackBuilderSigns"]
    assert signs["Principal"] == {
        "AWS": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/backup-dr-writer"
    }
    assert set(signs["Action"]) == {"kms:Sign", "kms:GetPublicKey", "kms:DescribeKey"}
    denied = [s for s in by_sid.values() if s["Effect"] == "Deny"]
    assert [d["Principal"]["AWS"] for d in denied] == [
        "arn:${AWS::Partition}:iam::${ProductionAccountId}:root"
    ]
    assert {"kms:Sign", *DESTRUCTIVE_ACTIONS} <= set(denied[0]["Action"])
    allowed = {a for s in by_sid.values() if s["Effect"] == "Allow" for a in s["Action"]}
    assert "kms:Sign" not in set(by_sid["AccountAdministersTheKey"]["Action"])
    assert "kms:Sign" in allowed


def test_the_trail_is_multi_region_validated_and_logs_the_dr_buckets_data_events() -> None:
    (trail,) = of_type(COMMITTED["production"], "AWS::CloudTrail::Trail")
    props = trail["Properties"]
    assert props["IsMultiRegionTrail"] and props["EnableLogFileValidation"] and props["IsLogging"]
    (selector,) = props["EventSelectors"]
    values = selector["DataResources"][0]["Values"]
    assert values == [f"arn:aws:s3:::{b}/" for b in POLICY.assets.dr_buckets]
    (topic,) = of_type(COMMITTED["production"], "AWS::SNS::Topic")
    assert topic["Properties"]["TopicName"] == POLICY.alerts.topic_name


def test_one_role_per_connection_in_its_account_trusting_the_chosen_target() -> None:
    for side in ("production", "dr"):
        template = COMMITTED[f"roles-{side}"]
        roles = {r["Properties"]["RoleName"] for r in of_type(template, "AWS::IAM::Role")}
        assert roles == {ROLES[conn] for conn, where in SIDES.items() if where == side}
        assert template["Parameters"]["DeploymentTarget"]["AllowedValues"] == [
            "mwaa",
            "kubernetes",
            "principal",
        ]
        attached = {
            p["Properties"]["Roles"][0]["Ref"] for p in of_type(template, "AWS::IAM::ManagedPolicy")
        }
        assert len(attached) == len(roles)
    # The other account's resources are named by its parameter, never this account's id.
    dr_roles = json.dumps(COMMITTED["roles-dr"])
    assert (
        "${ProductionAccountId}" in dr_roles
        and "ProductionAccountId" in COMMITTED["roles-dr"]["Parameters"]
    )


def test_a_dr_bucket_added_to_the_policy_file_appears_in_the_dr_template() -> None:
    more = POLICY.model_copy(
        update={
            "assets": POLICY.assets.model_copy(
                update={
                    "s3": (
                        *POLICY.assets.s3,
                        POLICY.assets.s3[0].model_copy(
                            update={"source": "new-src", "dr_bucket": "new-src-dr"}
                        ),
                    )
                }
            )
        }
    )
    names = [
        b["Properties"]["BucketName"]
        for b in of_type(dr_template(more, STORE_BUCKET), "AWS::S3::Bucket")
    ]
    assert "new-src-dr" in names
