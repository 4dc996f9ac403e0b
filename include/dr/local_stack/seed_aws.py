"""Seed the moto server with the demo company's AWS estate, as the policy file describes it.

Production region: a KMS key, the source buckets with objects, an encrypted RDS
MySQL instance, an alerts topic and a multi-region CloudTrail trail. DR region:
a KMS key and versioned, SSE-KMS DR buckets, and the bucket that holds the shared
store when it is on S3 (``STORE_BUCKET``). Seeding is idempotent: what
exists is left alone, so a second ``up`` changes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from typing import Any

import boto3
from botocore.exceptions import ClientError

from include.dr.local_stack.settings import STORE_BUCKET, LocalSettings
from include.dr.policy.model import BackupPolicy
from include.dr.rds.backup_window import rds_window_for
from include.dr.s3.guardrails import fix_dr_bucket, put_default_kms
from include.dr.tags import OWNER_KEY, OWNER_VALUE, owner_tags

TRAIL_NAME = "organisation-trail"
TRAIL_BUCKET_SUFFIX = "cloudtrail-logs"


def aws_client(settings: LocalSettings, service: str, region: str) -> Any:
    """A boto3 client for the moto server, built from the ``aws_default`` connection."""
    conn = settings.connection("aws_default")
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=conn["extra"]["endpoint_url"],
        aws_access_key_id=conn["login"],
        aws_secret_access_key=conn["password"],
    )


def seed_aws(settings: LocalSettings, policy: BackupPolicy) -> dict[str, Any]:
    """Create whatever of the demo estate is missing; return what exists, for the log."""
    prod, dr = policy.regions.production, policy.regions.dr
    keys = {
        region: _ensure_kms_key(settings, region, alias)
        for region, alias in policy.kms_keys.items()
    }
    for asset in policy.assets.s3:
        _ensure_source_bucket(settings, prod, asset.source, keys[prod])
        _ensure_dr_bucket(settings, dr, asset.dr_bucket, keys[dr], policy.retention.minimum_days)
    for rds in policy.assets.rds:
        _ensure_rds_instance(settings, policy, rds.instance, rds.database, keys[prod])
        _ensure_dr_bucket(settings, dr, rds.dr_bucket, keys[dr], policy.retention.minimum_days)
    github = policy.assets.github
    if github and github.dr_bucket:
        _ensure_dr_bucket(settings, dr, github.dr_bucket, keys[dr], policy.retention.minimum_days)
    ensure_dr_bucket(settings, policy, STORE_BUCKET)
    sns = aws_client(settings, "sns", policy.alerts.region)
    topic = sns.create_topic(Name=policy.alerts.topic_name)["TopicArn"]
    trail = _ensure_trail(settings, prod)
    return {"kms_keys": keys, "alerts_topic": topic, "trail": trail}


def _ensure_kms_key(settings: LocalSettings, region: str, alias: str) -> str:
    kms = aws_client(settings, "kms", region)
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "NotFoundException":
            raise
    key = kms.create_key(
        Description=f"Backup encryption key ({region})",
        Tags=[{"TagKey": OWNER_KEY, "TagValue": OWNER_VALUE}],
    )["KeyMetadata"]
    if alias.startswith("alias/"):
        kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return str(key["Arn"])


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
    """A bucket on the DR side made like a DR bucket (the store's, or a test's own)."""
    dr = policy.regions.dr
    key_arn = _ensure_kms_key(settings, dr, policy.kms_key(dr))
    _ensure_dr_bucket(settings, dr, bucket, key_arn, policy.retention.minimum_days)


def _ensure_dr_bucket(
    settings: LocalSettings, region: str, bucket: str, key_arn: str, minimum_days: int
) -> None:
    """A DR bucket made safe by the same code the S3 backup's ``fix_settings`` runs."""
    s3 = aws_client(settings, "s3", region)
    if not _create_bucket(s3, region, bucket):
        return
    needed = {"dr_bucket_versioning", "dr_bucket_encryption", "dr_bucket_lifecycle"}
    fix_dr_bucket(s3, bucket, key_arn, minimum_days, needed, local=True)
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": owner_tags()})


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


def _ensure_trail(settings: LocalSettings, region: str) -> str:
    cloudtrail = aws_client(settings, "cloudtrail", region)
    existing = cloudtrail.describe_trails(trailNameList=[TRAIL_NAME])["trailList"]
    if existing:
        return str(existing[0]["TrailARN"])
    account = aws_client(settings, "sts", region).get_caller_identity()["Account"]
    bucket = f"{account}-{TRAIL_BUCKET_SUFFIX}"
    _create_bucket(aws_client(settings, "s3", region), region, bucket)
    trail = cloudtrail.create_trail(
        Name=TRAIL_NAME, S3BucketName=bucket, IsMultiRegionTrail=True, EnableLogFileValidation=True
    )
    cloudtrail.start_logging(Name=TRAIL_NAME)
    return str(trail["TrailARN"])
