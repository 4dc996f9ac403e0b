"""The estate of ``infra/`` deployed to the moto server, as a company deploys it to AWS.

The three stacks go through moto's CloudFormation. moto creates their resources but
applies only some properties of some types (FACTS.md): of a bucket, its encryption and
tags; no CloudTrail trail at all. What it leaves out is then applied through the API,
read from the same template, so the stacks and the calls describe one estate
(tests/include/dr/local_stack/test_estate.py checks it, property by property).

moto's CloudFormation makes every KMS key symmetric, whatever its ``KeySpec``: a key the
template makes asymmetric (the evidence packs' signing key) is made through the API as
the template says, with the policy CloudFormation gave the stack's key, and its alias
pointed at it.

One property is left out on purpose: the TLS-only bucket policy. moto applies a bucket
policy's Deny while ignoring its condition, so it would refuse every request.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from botocore.exceptions import ClientError

from include.dr.s3.guardrails import Unreadable
from include.dr.s3.object_lock import lock_terms, read_lock

StackClient = Callable[[str, str], Any]  # (service, region) -> boto3 client

STACK_NAMES = {
    "roles-production": "backup-roles",
    "roles-dr": "backup-roles",
    "production": "backup-production",
    "dr": "backup-dr",
}


def stack_regions(production: str, dr: str) -> dict[str, str]:
    """Which region each stack is deployed to, and so (on the local stack, where each
    account keeps to its region) which account: IAM is global, the roles go with their
    account's other stack."""
    return {"roles-production": production, "roles-dr": dr, "production": production, "dr": dr}


def deploy(
    client: StackClient,
    templates: Mapping[str, dict[str, Any]],
    regions: Mapping[str, str],
    parameters: Mapping[str, str] | None = None,
) -> dict[str, dict[str, str]]:
    """Create each stack that does not exist yet (an existing one is left alone) with the
    ``parameters`` its template declares, then apply what moto's CloudFormation left out;
    return each stack's outputs."""
    outputs = {}
    for stack, template in templates.items():
        region = regions[stack]
        cloudformation = client("cloudformation", region)
        name = STACK_NAMES[stack]
        if not _exists(cloudformation, name):
            declared = template.get("Parameters", {})
            given = {k: v for k, v in (parameters or {}).items() if k in declared}
            cloudformation.create_stack(
                StackName=name,
                TemplateBody=json.dumps(template),
                Capabilities=["CAPABILITY_NAMED_IAM"],
                Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in given.items()],
            )
        outputs[stack] = _outputs(cloudformation, name)
        complete(client, template, region, outputs[stack])
        outputs[stack] |= asymmetric_keys(client("kms", region), template)
    return outputs


def asymmetric_keys(kms: Any, template: Mapping[str, Any]) -> dict[str, str]:
    """Each asymmetric key of the template, behind its alias, as the template says; its
    ARN by the output name ``<logical id>Arn``."""
    found = {}
    resources = template["Resources"]
    for resource in resources.values():
        if resource["Type"] != "AWS::KMS::Alias":
            continue
        target = resource["Properties"]["TargetKeyId"].get("Ref")
        key = resources.get(target, {}).get("Properties", {})
        spec = key.get("KeySpec", "SYMMETRIC_DEFAULT")
        if spec == "SYMMETRIC_DEFAULT":
            continue
        alias = resource["Properties"]["AliasName"]
        try:
            made = kms.describe_key(KeyId=alias)["KeyMetadata"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException":
                raise
            made = None
        if made is None or made["KeySpec"] != spec:
            policy = (
                kms.get_key_policy(KeyId=made["KeyId"], PolicyName="default")["Policy"]
                if made
                else None
            )
            created = kms.create_key(
                Description=key.get("Description", ""),
                KeySpec=spec,
                KeyUsage=key.get("KeyUsage", "SIGN_VERIFY"),
                **({"Policy": policy} if policy else {}),
            )["KeyMetadata"]
            if made:
                kms.update_alias(AliasName=alias, TargetKeyId=created["KeyId"])
            else:
                kms.create_alias(AliasName=alias, TargetKeyId=created["KeyId"])
            made = created
        found[f"{target}Arn"] = str(made["Arn"])
    return found


def _exists(cloudformation: Any, name: str) -> bool:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return any(s["StackStatus"] != "DELETE_COMPLETE" for s in stacks)


def _outputs(cloudformation: Any, name: str) -> dict[str, str]:
    stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def complete(
    client: StackClient, template: Mapping[str, Any], region: str, outputs: Mapping[str, str]
) -> None:
    """Apply the template's properties moto's CloudFormation does not."""
    s3 = client("s3", region)
    account = client("sts", region).get_caller_identity()["Account"]
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::S3::Bucket":
            bucket = _resolve(properties["BucketName"], account)
            key_arn = _key_arn(properties, outputs)
            apply_bucket_properties(s3, bucket, properties, key_arn)
        elif resource["Type"] == "AWS::CloudTrail::Trail":
            logs = template["Resources"][properties["S3BucketName"]["Ref"]]["Properties"]
            trail_bucket = _resolve(logs["BucketName"], account)
            _ensure_trail(client("cloudtrail", region), properties, trail_bucket)


def apply_bucket_properties(
    s3: Any, bucket: str, properties: Mapping[str, Any], key_arn: str | None
) -> None:
    """A bucket made as its template says (encryption with Bucket Keys, versioning,
    Object Lock, lifecycle, public access block, ownership), idempotently."""
    if "VersioningConfiguration" in properties:
        s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration=properties["VersioningConfiguration"]
        )
    if "ObjectLockConfiguration" in properties:
        _ensure_lock(s3, bucket, properties["ObjectLockConfiguration"])
    if "BucketEncryption" in properties and key_arn:
        rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        default = rule["ServerSideEncryptionByDefault"]
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": default["SSEAlgorithm"],
                            "KMSMasterKeyID": key_arn,
                        },
                        "BucketKeyEnabled": rule.get("BucketKeyEnabled", False),
                    }
                ]
            },
        )
    if "LifecycleConfiguration" in properties:
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [_lifecycle_rule(r) for r in properties["LifecycleConfiguration"]["Rules"]]
            },
        )
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"],
        )
    if "OwnershipControls" in properties:
        s3.put_bucket_ownership_controls(
            Bucket=bucket, OwnershipControls=properties["OwnershipControls"]
        )


def _ensure_lock(s3: Any, bucket: str, configuration: Mapping[str, Any]) -> None:
    """The lock, put only when it differs: moto takes a lock configuration only while the
    bucket is empty, so a second ``up`` must not ask again."""
    found = read_lock(s3, bucket)
    if isinstance(found, Unreadable) or lock_terms(found) != lock_terms(configuration):
        s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration=dict(configuration))


def _lifecycle_rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A CloudFormation lifecycle rule in the S3 API's shape."""
    converted: dict[str, Any] = {"ID": rule["Id"], "Status": rule["Status"], "Filter": {}}
    for field in ("NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload"):
        if field in rule:
            converted[field] = rule[field]
    return converted


def _key_arn(properties: Mapping[str, Any], outputs: Mapping[str, str]) -> str | None:
    """The key a bucket's template names (``Fn::GetAtt [Key, Arn]``), from the outputs."""
    try:
        rule = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
        logical = rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][0]
    except (KeyError, TypeError):
        return None
    return outputs.get(f"{logical}Arn")


def _resolve(value: Any, account: str) -> str:
    """A template string value: literal, or a ``Fn::Sub`` of the account id."""
    if isinstance(value, str):
        return value
    return str(value["Fn::Sub"]).replace("${AWS::AccountId}", account)


def _ensure_trail(cloudtrail: Any, properties: Mapping[str, Any], bucket: str) -> None:
    """The trail as its template says: moto's CloudFormation has no trail type."""
    if cloudtrail.describe_trails(trailNameList=[properties["TrailName"]])["trailList"]:
        return
    cloudtrail.create_trail(
        Name=properties["TrailName"],
        S3BucketName=bucket,
        IsMultiRegionTrail=properties["IsMultiRegionTrail"],
        EnableLogFileValidation=properties["EnableLogFileValidation"],
        IncludeGlobalServiceEvents=properties["IncludeGlobalServiceEvents"],
    )
    cloudtrail.put_event_selectors(
        TrailName=properties["TrailName"], EventSelectors=properties["EventSelectors"]
    )
    if properties["IsLogging"]:
        cloudtrail.start_logging(Name=properties["TrailName"])
