"""Seed the moto server with the demo company's AWS estate, as the policy file describes it.

The backup estate (the keys, the DR buckets and the store's, the alerts topic, the
trail, the roles) is the three stacks of ``infra/``, deployed as a company deploys them
(:mod:`include.dr.local_stack.estate`). What the product backs up is made here through
the API, since a company has it already: the source buckets with objects, and an
encrypted RDS MySQL instance. Seeding is idempotent: what exists is left alone, so a
second ``up`` changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date
from typing import Any

import boto3
from botocore.exceptions import ClientError

from include.dr.infra.files import committed_templates
from include.dr.infra.templates import dr_bucket
from include.dr.local_stack.estate import apply_bucket_properties, deploy, stack_regions
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.model import BackupPolicy
from include.dr.rds.backup_window import rds_window_for
from include.dr.s3.guardrails import put_default_kms
from include.dr.tags import owner_tags


def aws_client(settings: LocalSettings, service: str, region: str) -> Any:
    """A boto3 client for the moto server, in the account that keeps to ``region``: the
    DR region's is the DR account (``aws_dr``'s keys), every other region's production
    (``aws_default``'s keys). IAM, being global, is production's."""
    dr_region = settings.connection("aws_dr")["extra"]["region_name"]
    conn = settings.connection("aws_dr" if region == dr_region else "aws_default")
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=conn["extra"]["endpoint_url"],
        aws_access_key_id=conn["login"],
        aws_secret_access_key=conn["password"],
    )


def seed_aws(settings: LocalSettings, policy: BackupPolicy) -> dict[str, Any]:
    """Deploy the estate's stacks and make the production data; return what exists."""
    prod, dr = policy.regions.production, policy.regions.dr
    production_account = aws_client(settings, "sts", prod).get_caller_identity()["Account"]
    dr_account = aws_client(settings, "sts", dr).get_caller_identity()["Account"]
    outputs = deploy(
        lambda service, region: aws_client(settings, service, region),
        committed_templates(),
        stack_regions(prod, dr),
        {"DrAccountId": dr_account, "ProductionAccountId": production_account},
    )
    prod_key = outputs["production"]["ProductionKeyArn"]
    for asset in policy.assets.s3:
        _ensure_source_bucket(settings, prod, asset.source, prod_key)
        open_to_dr(settings, asset.source, dr_account)
    for rds in policy.assets.rds:
        _ensure_rds_instance(settings, policy, rds.instance, rds.database, prod_key)
    return {
        "kms_keys": {prod: prod_key, dr: outputs["dr"]["DrKeyArn"]},
        "alerts_topic": outputs["production"]["AlertsTopicArn"],
        "stacks": sorted(outputs),
    }


def _dr_key_arn(settings: LocalSettings, policy: BackupPolicy) -> str:
    kms = aws_client(settings, "kms", policy.regions.dr)
    return str(kms.describe_key(KeyId=policy.kms_key(policy.regions.dr))["KeyMetadata"]["Arn"])


def _create_bucket(s3: Any, region: str, bucket: str) -> bool:
    try:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    except ClientError as exc:
        if exc.response["Error"]["Code"] in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            return False
        raise
    return True


def _ensure_source_bucket(settings: LocalSettings, region: str, bucket: str, key_arn: str) -> None:
    s3 = aws_client(settings, "s3", region)
    if not _create_bucket(s3, region, bucket):
        return
    put_default_kms(s3, bucket, key_arn)
    for key, body in demo_objects(bucket):
        s3.put_object(Bucket=bucket, Key=key, Body=body)


def open_to_dr(settings: LocalSettings, bucket: str, dr_account: str | None = None) -> None:
    """Let the DR account into a production bucket, as a company grants it on AWS: read
    (the backup copies from it; restores and the restore test read it) and write (an
    in-place restore). On AWS name the roles (``backup-dr-writer`` reads,
    ``backup-restore-operator`` reads and writes) rather than the account."""
    dr_region = settings.connection("aws_dr")["extra"]["region_name"]
    account = dr_account or aws_client(settings, "sts", dr_region).get_caller_identity()["Account"]
    statement = {
        "Sid": "DrAccountBacksUpAndRestores",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:GetObjectTagging",
            "s3:GetObjectVersionTagging",
            "s3:GetBucketLocation",
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:PutObject",
            "s3:PutObjectTagging",
        ],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
    }
    document = {"Version": "2012-10-17", "Statement": [statement]}
    production = settings.connection("aws_default")["extra"]["region_name"]
    aws_client(settings, "s3", production).put_bucket_policy(
        Bucket=bucket, Policy=json.dumps(document)
    )


def demo_objects(bucket: str) -> list[tuple[str, bytes]]:
    """Deterministic demo content: the same keys and bytes on every machine."""
    layout = {
        "avatars/": (60, 2_000, ".png"),
        "invoices/2026/": (120, 12_000, ".pdf"),
        "config/": (10, 800, ".json"),
        "exports/": (20, 30_000, ".csv"),
        "tmp/": (10, 500, ".tmp"),
    }
    objects = []
    for prefix, (count, size, suffix) in layout.items():
        for index in range(count):
            seed = hashlib.sha256(f"{bucket}/{prefix}{index}".encode()).digest()
            length = size // 2 + int.from_bytes(seed[:2], "big") % size
            body = (seed * (length // len(seed) + 1))[:length]
            objects.append((f"{prefix}{index:04d}{suffix}", body))
    return objects


def ensure_dr_bucket(settings: LocalSettings, policy: BackupPolicy, bucket: str) -> None:
    """A bucket on the DR side made as the DR stack makes its buckets (a test's own)."""
    dr = policy.regions.dr
    s3 = aws_client(settings, "s3", dr)
    if not _create_bucket(s3, dr, bucket):
        return
    properties = dr_bucket(bucket, policy.retention.minimum_days)["Properties"]
    apply_bucket_properties(s3, bucket, properties, _dr_key_arn(settings, policy))
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": owner_tags()})


def ensure_rds_instance(
    settings: LocalSettings, policy: BackupPolicy, instance: str, database: str
) -> None:
    """An encrypted production instance made as the seed makes one (a test's own)."""
    kms = aws_client(settings, "kms", policy.regions.production)
    key = kms.describe_key(KeyId=policy.kms_key(policy.regions.production))["KeyMetadata"]
    _ensure_rds_instance(settings, policy, instance, database, key["Arn"])


def _ensure_rds_instance(
    settings: LocalSettings, policy: BackupPolicy, instance: str, database: str, key_arn: str
) -> None:
    rds = aws_client(settings, "rds", policy.regions.production)
    try:
        rds.describe_db_instances(DBInstanceIdentifier=instance)
        return
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "DBInstanceNotFound":
            raise
    rds.create_db_instance(
        DBInstanceIdentifier=instance,
        DBName=database,
        Engine="mysql",
        EngineVersion="8.0.40",
        DBInstanceClass="db.t3.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        # moto keeps it; nothing reads it back, so it is never stored anywhere.
        MasterUserPassword=secrets.token_urlsafe(24),
        StorageEncrypted=True,
        KmsKeyId=key_arn,
        BackupRetentionPeriod=policy.retention.minimum_days,
        PreferredBackupWindow=rds_window_for(policy.schedule.window, date.today().year),
        PubliclyAccessible=False,
        Tags=[{"Key": "data-class", "Value": "customer"}],
    )
