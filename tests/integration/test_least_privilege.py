"""The whole product under IAM enforcement: a moto server of its own, the estate deployed
from ``infra/``, and each AWS connection signed by a user that holds exactly its role's
shipped policies (tests/integration/enforced_aws.py says what moto can and cannot check).

The daily cycle (the preflight, the three backups), the annual restore test, the three
restores and the compliance evaluation must all pass; a role without one of its families'
policies must not.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
import yaml

from include.dr.asset_names import git_asset, rds_asset
from include.dr.local_stack.enforcement import ACCOUNT
from include.dr.local_stack.git_daemon import repos_root
from include.dr.local_stack.seed_aws import aws_client, ensure_dr_bucket
from include.dr.local_stack.settings import STORE_BUCKET, LocalSettings
from include.dr.policy.loader import DEFAULT_POLICY_FILE, load_policy
from include.dr.policy.model import BackupPolicy
from include.dr.s3.layout import SUMMARY, manifests_of
from include.dr.tags import COMPLETED_KEY, VERIFIED_KEY, owner_tags
from tests.integration.enforced_aws import EnforcedAws, enforced_aws

pytestmark = pytest.mark.usefixtures("local_stack")

AWS_CONNECTIONS = ("aws_default", "aws_dr", "aws_restore")
WINDOW = {"override_window": True}
RESTORE_TARGET = f"restore-iam-{uuid.uuid4().hex[:8]}"


OLD_DAYS = (40, 39, 38)  # beyond the minimum; the oldest is beyond the newest verified too


def old_backups(seeded: LocalSettings, policy: BackupPolicy) -> dict[str, list[str]]:
    """Finished, verified backups of ours from weeks ago, of every kind retention handles:
    RDS snapshots (and their DR copies), dumps, S3 run manifests and git bundles. The
    day's runs must delete the oldest, under the shipped policies."""
    ours = [*owner_tags(), {"Key": VERIFIED_KEY, "Value": "true"}]
    prod, dr = policy.regions.production, policy.regions.dr
    rds = policy.assets.rds[0]
    github = policy.assets.github
    assert github and github.repositories and github.dr_bucket
    made: dict[str, list[str]] = {"snapshots": [], "objects": []}
    for age in OLD_DAYS:
        day = (datetime.now(UTC) - timedelta(days=age)).date().isoformat()
        tags = [*ours, {"Key": COMPLETED_KEY, "Value": f"{day}T02:00:00+00:00"}]
        snapshot = f"{rds.instance}-{day}"
        aws_client(seeded, "rds", prod).create_db_snapshot(
            DBInstanceIdentifier=rds.instance, DBSnapshotIdentifier=snapshot, Tags=tags
        )
        source = f"arn:aws:rds:{prod}:{ACCOUNT}:snapshot:{snapshot}"
        aws_client(seeded, "rds", dr).copy_db_snapshot(
            SourceDBSnapshotIdentifier=source,
            TargetDBSnapshotIdentifier=snapshot,
            SourceRegion=prod,
            KmsKeyId=policy.kms_key(dr),
            Tags=tags,
        )
        made["snapshots"].append(snapshot)
        objects = [
            (rds.dr_bucket, f"{rds_asset(rds.instance)}/{day}/{rds.database}.sql.gz"),
            (
                policy.assets.s3[0].dr_bucket,
                f"{manifests_of(policy.assets.s3[0].source)}{day}/old/{SUMMARY}",
            ),
            *[
                (github.dr_bucket, f"{git_asset(github.organisation, r)}/{day}/bundle.json")
                for r in github.repositories
            ],
        ]
        for bucket, key in objects:
            aws_client(seeded, "s3", dr).put_object(
                Bucket=bucket,
                Key=key,
                Body=b"{}",
                Tagging=urlencode({t["Key"]: t["Value"] for t in tags}),
            )
            made["objects"].append(f"{bucket}/{key}")
    return made


def policy_of_its_own(folder: Path) -> tuple[Path, dict[str, Any]]:
    """The shipped policy with S3 and git DR buckets of this test's own."""
    source = f"iam-{uuid.uuid4().hex[:8]}"
    policy = yaml.safe_load(DEFAULT_POLICY_FILE.read_text())
    policy["assets"]["s3"] = [{"source": source, "dr_bucket": f"{source}-dr"}]
    policy["assets"]["github"]["dr_bucket"] = f"{source}-git"
    path = folder / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    return path, policy


@pytest.fixture(scope="module")
def under_iam(
    local_stack: Path, settings: LocalSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]]]:
    from tests.conftest import AWS_CALLS

    path, document = policy_of_its_own(tmp_path_factory.mktemp("iam"))
    policy = load_policy(path)
    old: dict[str, list[str]] = {}

    def before_enforcement(seeded: LocalSettings) -> None:
        ensure_dr_bucket(seeded, policy, policy.assets.s3[0].dr_bucket)
        ensure_dr_bucket(seeded, policy, f"{policy.assets.s3[0].source}-git")
        old.update(old_backups(seeded, policy))
        production = policy.regions.production
        aws_client(seeded, "s3", production).create_bucket(  # the S3 restore's target
            Bucket=RESTORE_TARGET, CreateBucketConfiguration={"LocationConstraint": production}
        )

    with enforced_aws(local_stack, settings, policy, before_enforcement) as aws:
        for conn_id, (key, _) in aws.keys.items():
            AWS_CALLS.principals[key] = conn_id  # its calls count in the inventory check
        with pytest.MonkeyPatch.context() as patch:
            for conn_id in AWS_CONNECTIONS:
                patch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", aws.connection(settings, conn_id))
            patch.setenv("BACKUP_POLICY_FILE", str(path))
            # The store on S3, as in production: the DR role writes and reads it there.
            patch.setenv("BACKUP_STORE_URL", f"s3://{STORE_BUCKET}/iam-{uuid.uuid4().hex[:8]}")
            patch.setenv("BACKUP_STORE_CONN_ID", "aws_dr")
            patch.setenv("BACKUP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
            yield aws, document, old


def still_there(
    aws: EnforcedAws, settings: LocalSettings, policy: dict[str, Any], old: dict[str, list[str]]
) -> list[str]:
    """The old backups that remain (read with the DR writer's own key)."""
    conn = json.loads(aws.connection(settings, "aws_dr"))
    session = {
        "endpoint_url": aws.endpoint,
        "aws_access_key_id": conn["login"],
        "aws_secret_access_key": conn["password"],
    }
    dr, prod = policy["regions"]["dr"], policy["regions"]["production"]
    left = []
    for region in (prod, dr):
        rds = boto3.client("rds", region_name=region, **session)
        found = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]}
        left += [f"{region}:{name}" for name in old["snapshots"] if name in found]
    s3 = boto3.client("s3", region_name=dr, **session)
    for path in old["objects"]:
        bucket, key = path.split("/", 1)
        if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
            left.append(path)
    return left


def run(dag_bag: Any, dag_id: str, conf: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    dag = dag_bag.get_dag(dag_id)
    dag.deadline = None
    return dag.test(run_conf=conf or {}, **kwargs)


def new_git_target(state: Path, organisation: str) -> str:
    name = f"webapp-iam-{uuid.uuid4().hex[:6]}"
    subprocess.run(  # noqa: S603 - a fixed git command on a path of our own
        ["git", "init", "-q", "--bare", str(repos_root(state) / organisation / f"{name}.git")],  # noqa: S607
        check=True,
    )
    return name


def test_every_dag_passes_under_the_shipped_policies(
    dag_bag: Any,
    under_iam: tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]],
    local_stack: Path,
    settings: LocalSettings,
) -> None:
    aws, policy, old = under_iam
    today = datetime.now(UTC) - timedelta(minutes=1)
    states: dict[str, str] = {}
    states["policy_preflight"] = run(dag_bag, "policy_preflight").state
    for dag_id in ("rds_backup", "s3_backup", "git_backup"):
        states[dag_id] = run(dag_bag, dag_id, WINDOW, logical_date=today).state
    states["restore_test"] = run(dag_bag, "restore_test", {"keep_scratch": False}).state
    source = policy["assets"]["s3"][0]["source"]
    states["restore_s3"] = run(
        dag_bag,
        "restore_s3",
        {
            "source_bucket": source,
            "target_bucket": RESTORE_TARGET,
            "target_prefix": "restored/",
            "dry_run": False,
        },
    ).state
    states["restore_rds logical"] = run(
        dag_bag,
        "restore_rds",
        {
            "instance": policy["assets"]["rds"][0]["instance"],
            "source": "logical_dump",
            "dump_date": today.date().isoformat(),
            "target_database": f"restore_{uuid.uuid4().hex[:8]}",
            "dry_run": False,
        },
    ).state
    states["restore_rds native"] = run(
        dag_bag,
        "restore_rds",
        {
            "instance": policy["assets"]["rds"][0]["instance"],
            "source": "latest",
            "target_instance": f"restored-{uuid.uuid4().hex[:8]}",
            "dry_run": False,
        },
    ).state
    organisation = policy["assets"]["github"]["organisation"]
    target = new_git_target(local_stack, organisation)
    states["restore_git"] = run(
        dag_bag,
        "restore_git",
        {
            "repository": "webapp",
            "target_url": f"git://127.0.0.1:{settings.git_daemon_port}/{organisation}/{target}.git",
            "dry_run": False,
        },
    ).state
    states["compliance_evaluation"] = run(dag_bag, "compliance_evaluation").state
    assert states == dict.fromkeys(states, "success")
    # Retention deleted the oldest of each kind, as the roles it ran under allowed.
    oldest = (datetime.now(UTC) - timedelta(days=OLD_DAYS[0])).date().isoformat()
    left = still_there(aws, settings, policy, old)
    assert [name for name in left if oldest in name] == [], left


def test_the_dr_role_without_its_s3_backup_policy_cannot_back_up(
    dag_bag: Any, under_iam: tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]]
) -> None:
    """Enforcement is on: a policy taken away fails the DAG that needs it."""
    aws, _, _ = under_iam
    with aws.without("aws_dr", "s3_backup"):
        day = datetime.now(UTC) - timedelta(days=1)
        assert run(dag_bag, "s3_backup", WINDOW, logical_date=day).state == "failed"
