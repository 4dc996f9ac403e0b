"""Making and removing what a restore test uses, and only that: the scratch database, the
scratch bucket (unversioned, so every object in it), the temporary instance. Each is
named from the run; only a database named as a restore test's is made or dropped, and the
instance is deleted only if it carries this run's tag."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from include.dr.errors import Permanent, is_not_found
from include.dr.operators.rds_restore import RUN_TAG
from include.dr.rds.checksum import quote
from include.dr.tags import as_mapping, owner_tags

SCRATCH_DATABASE_PREFIX = "restore_test_"


class NotScratch(Permanent):
    """Asked to make or remove something that is not this restore test's scratch space."""


def scratch_database_sql(database: str, action: str) -> str:
    """``CREATE DATABASE`` or ``DROP DATABASE IF EXISTS`` for a scratch database, quoted;
    refused for any name that is not a restore test's."""
    if not database.startswith(SCRATCH_DATABASE_PREFIX):
        raise NotScratch(f"{database} is not a restore-test scratch database; not touched")
    statements = {"create": "CREATE DATABASE", "drop": "DROP DATABASE IF EXISTS"}
    return f"{statements[action]} {quote(database)}"


def create_database(cursor: Any, database: str) -> str:
    cursor.execute(scratch_database_sql(database, "create"))
    return "created"


def create_bucket(s3: Any, bucket: str, region: str) -> None:
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": owner_tags()})


def delete_bucket(s3: Any, bucket: str) -> str:
    """Empty the scratch bucket and remove it. It is made unversioned, so deleting its keys
    removes them: no role of the product holds ``s3:DeleteObjectVersion``."""
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            doomed = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except ClientError as exc:
        if is_not_found(exc):
            return "already gone"
        raise
    return "deleted"


def drop_database(cursor: Any, database: str) -> str:
    cursor.execute(scratch_database_sql(database, "drop"))
    return "dropped"


def delete_instance(rds: Any, identifier: str, run_id: str) -> str:
    try:
        found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except ClientError as exc:
        if is_not_found(exc):
            return "never made"
        raise
    if as_mapping(found.get("TagList", [])).get(RUN_TAG) != run_id[:256]:
        raise NotScratch(f"{identifier} is not this run's scratch instance; not deleted")
    rds.delete_db_instance(
        DBInstanceIdentifier=identifier, SkipFinalSnapshot=True, DeleteAutomatedBackups=True
    )
    return "deleting"
