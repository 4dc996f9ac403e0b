"""The git bundles' copy in the DR bucket: its guardrails, checked before a run fetches
anything, and the upload of each verified bundle with SSE-KMS under the DR key.

A day's upload is written once: a bundle already there with the same digest is
kept, one with another digest is never overwritten (a person compares the two).
The DR copy is the bundle of record (:mod:`include.dr.git.bundle_store`).
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from include.dr.asset_names import dated_prefix, git_asset, git_organisation_asset
from include.dr.environment import is_local_stack
from include.dr.errors import Permanent, is_not_found
from include.dr.evidence import record as record_evidence
from include.dr.git.bundle import BundleRecord
from include.dr.git.plans import Batch
from include.dr.kms import KeyUnavailable, resolve_key
from include.dr.policy.model import BackupPolicy
from include.dr.progress import Progress
from include.dr.run_info import RunInfo
from include.dr.s3.guardrails import check_dr_bucket
from include.dr.tags import COMPLETED_KEY, OWNER_KEY, OWNER_VALUE, VERIFIED_KEY

if TYPE_CHECKING:
    from types_boto3_kms import KMSClient
    from types_boto3_s3 import S3Client

RUN_EVIDENCE_KIND = "git_backup_run"


class DrBucketUnfit(Permanent):
    """The DR bucket, or the DR key, fails a guardrail: nothing is fetched or uploaded."""


class DrCopyConflict(Permanent):
    """The DR bucket holds another bundle for the day, or the upload is not what was sent."""


def check_dr_bucket_for_bundles(
    policy: BackupPolicy, dr_s3: S3Client, dr_kms: KMSClient, run: RunInfo
) -> str | None:
    """The DR key's ARN when bundles go to a DR bucket that passes every guardrail; a
    violation is recorded and fails the run before anything is fetched or uploaded."""
    asset = policy.assets.github
    if asset is None or asset.dr_bucket is None:
        return None
    region = policy.regions.dr
    try:
        key_arn = resolve_key(dr_kms, policy.kms_key(region), region)
        checks = check_dr_bucket(
            dr_s3,
            dr_kms,
            asset.dr_bucket,
            region,
            key_arn,
            policy.retention.minimum_days,
            is_local_stack(dr_s3),
        )
    except KeyUnavailable as exc:
        checks, key_arn = [], ""
        reason = str(exc)
    else:
        bad = [c for c in checks if c.failed]
        reason = "; ".join(f"{c.name} {c.resource}: found {c.found}; {c.fix}" for c in bad)
    if reason:
        record_evidence(
            kind=RUN_EVIDENCE_KIND,
            asset=git_organisation_asset(asset.organisation),
            dag_id=run.dag_id,
            run_id=run.run_id,
            outcome="fail",
            details={
                "failed_step": "check_dr_bucket",
                "checks": [c.as_dict() for c in checks],
                "reason": reason,
            },
        )
        raise DrBucketUnfit(
            f"git bundles cannot go to s3://{asset.dr_bucket}: {reason}. "
            "Nothing was fetched or uploaded."
        )
    return key_arn


def dr_prefix(organisation: str, name: str, day: str) -> str:
    """The DR bucket folder of one day's bundle (a dated folder, as retention expects)."""
    return dated_prefix(git_asset(organisation, name), day)


def upload_bundle(
    dr_s3: S3Client, batch: Batch, name: str, bundle: Path, record: BundleRecord
) -> dict[str, Any]:
    """Put the bundle and its sidecar in the DR bucket with SSE-KMS; an existing upload
    with the same digest is kept, one with another digest is never overwritten."""
    bucket, key_arn = batch["dr_bucket"], batch["kms_key_arn"]
    assert bucket is not None and key_arn is not None
    prefix = dr_prefix(batch["organisation"], name, batch["day"])
    object_key = f"{prefix}bundle.enc"
    try:
        found: Any = dr_s3.head_object(Bucket=bucket, Key=object_key)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        found = None
    if found is not None:
        if found.get("Metadata", {}).get("sha256") != record.sha256:
            raise DrCopyConflict(
                f"s3://{bucket}/{object_key} already holds another bundle for {batch['day']}; "
                "it was not overwritten. Compare it with the local store before removing either."
            )
        head, uploaded = found, False
    else:
        with Progress(
            f"uploading the bundle of {record.repository} for {record.day} to s3://{bucket}",
            total_bytes=record.size,
            unit="files",
        ) as progress:
            dr_s3.upload_file(
                str(bundle),
                bucket,
                object_key,
                ExtraArgs={
                    "ServerSideEncryption": "aws:kms",
                    "SSEKMSKeyId": key_arn,
                    "Metadata": {"sha256": record.sha256},
                },
                Callback=lambda sent: progress.advance(bytes=sent),
            )
            progress.advance(1)
        head, uploaded = dr_s3.head_object(Bucket=bucket, Key=object_key), True
        if head["ContentLength"] != record.size or head.get("SSEKMSKeyId") != key_arn:
            raise DrCopyConflict(
                f"s3://{bucket}/{object_key}: {head['ContentLength']} bytes under key "
                f"{head.get('SSEKMSKeyId')}, expected {record.size} bytes under {key_arn}"
            )
    _put_sidecar(dr_s3, bucket, f"{prefix}bundle.json", record, key_arn)
    return {
        "bucket": bucket,
        "key": object_key,
        "version_id": head.get("VersionId"),
        "uploaded": uploaded,
    }


def _put_sidecar(
    dr_s3: S3Client, bucket: str, key: str, record: BundleRecord, key_arn: str
) -> None:
    """Describe the bundle last, once: a sidecar marks the day's bundle of record as finished
    (an upload cut off before it is finished on the next run, by whichever worker)."""
    try:
        dr_s3.head_object(Bucket=bucket, Key=key)
        return
    except ClientError as exc:
        if not is_not_found(exc):
            raise
    tags = {OWNER_KEY: OWNER_VALUE, VERIFIED_KEY: "true", COMPLETED_KEY: record.completed_at}
    dr_s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(asdict(record), indent=2, sort_keys=True).encode(),
        ContentType="application/json",
        Tagging=urllib.parse.urlencode(tags),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
        BucketKeyEnabled=True,
    )
