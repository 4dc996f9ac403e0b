"""Removing what a restore test made, and only that: the scratch database, the scratch
bucket (every version in it), the temporary instance. Each is named from the run, and
the instance is deleted only if it carries this run's tag."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from include.dr.checks import error_code
from include.dr.operators.rds_restore import RUN_TAG
from include.dr.rds.manifest import quote
from include.dr.tags import as_mapping, owner_tags


def create_bucket(s3: Any, bucket: str, region: str) -> None:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": owner_tags()})


def delete_bucket(s3: Any, bucket: str) -> str:
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for page in pages:
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) == "NoSuchBucket":
            return "already gone"
        raise
    return "deleted"


def drop_database(cursor: Any, database: str) -> str:
    if not database.startswith("restore_test_"):
        raise ValueError(f"{database} is not a restore-test scratch database; not dropped")
    cursor.execute(f"DROP DATABASE IF EXISTS {quote(database)}")
    return "dropped"


def delete_instance(rds: Any, identifier: str, run_id: str) -> str:
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            return "never made"
        raise
    if as_mapping(found.get("TagList", [])).get(RUN_TAG) != run_id[:256]:
        raise ValueError(f"{identifier} is not this run's scratch instance; not deleted")
    rds.delete_db_instance(
        DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
    )
    return "deleting"
