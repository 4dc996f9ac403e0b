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

import pytest
import yaml
from botocore.exceptions import ClientError

from include.dr.asset_names import git_asset, rds_asset
from include.dr.evidence import evidence_store
from include.dr.local_stack.accounts import CONNECTION_ACCOUNTS, DR_ACCOUNT
from include.dr.local_stack.accounts import PRODUCTION_ACCOUNT as ACCOUNT
from include.dr.local_stack.enforcement import user_name
from include.dr.local_stack.git_daemon import repos_root
from include.dr.local_stack.seed_aws import aws_client, ensure_dr_bucket, open_to_dr
from include.dr.local_stack.settings import STORE_BUCKET, LocalSettings
from include.dr.policy.loader import DEFAULT_POLICY_FILE, load_policy
from include.dr.policy.model import BackupPolicy
from include.dr.s3.layout import SUMMARY, manifests_of
from include.dr.s3.object_lock import lock_configuration
from include.dr.tags import COMPLETED_KEY, VERIFIED_KEY, owner_tags
from tests.integration.enforced_aws import EnforcedAws, enforced_aws

pytestmark = pytest.mark.usefixtures("local_stack")

PRODUCTION_ADMIN = "production-admin"  # a user of the production account holding "*"
admin_keys: dict[str, tuple[str, str]] = {}  # its keys, once the module's estate made it
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
        aws_client(seeded, "rds", prod).modify_db_snapshot_attribute(
            DBSnapshotIdentifier=snapshot, AttributeName="restore", ValuesToAdd=[DR_ACCOUNT]
        )
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
    admin_keys.clear()

    def before_enforcement(seeded: LocalSettings) -> None:
        ensure_dr_bucket(seeded, policy, policy.assets.s3[0].dr_bucket)
        ensure_dr_bucket(seeded, policy, f"{policy.assets.s3[0].source}-git")
        old.update(old_backups(seeded, policy))
        production = policy.regions.production
        aws_client(seeded, "s3", production).create_bucket(  # the S3 restore's target
            Bucket=RESTORE_TARGET, CreateBucketConfiguration={"LocationConstraint": production}
        )
        open_to_dr(seeded, RESTORE_TARGET)  # the restore operator writes it from DR
        admin = aws_client(seeded, "iam", production)
        admin.create_user(UserName=PRODUCTION_ADMIN)
        admin.put_user_policy(
            UserName=PRODUCTION_ADMIN,
            PolicyName="AdministratorAccess",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        key = admin.create_access_key(UserName=PRODUCTION_ADMIN)["AccessKey"]
        admin_keys[PRODUCTION_ADMIN] = (key["AccessKeyId"], key["SecretAccessKey"])

    with enforced_aws(local_stack, settings, policy, before_enforcement) as aws:
        for conn_id, (key, _) in aws.keys.items():
            AWS_CALLS.principals[key] = conn_id  # its calls count in the inventory check
        with pytest.MonkeyPatch.context() as patch:
            for conn_id in aws.keys:
                patch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", aws.connection(settings, conn_id))
            patch.setenv("BACKUP_POLICY_FILE", str(path))
            # The store on S3, as in production: the DR role writes and reads it there.
            patch.setenv("BACKUP_STORE_URL", f"s3://{STORE_BUCKET}/iam-{uuid.uuid4().hex[:8]}")
            patch.setenv("BACKUP_STORE_CONN_ID", "aws_dr")
            # Airflow keeps one file system per (protocol, connection id) for the process:
            # another test's s3 store on aws_dr would still point at the other moto server.
            patch.setattr("airflow.sdk.io.store._STORE_CACHE", {})
            patch.setenv("BACKUP_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
            yield aws, document, old


def still_there(
    aws: EnforcedAws, settings: LocalSettings, policy: dict[str, Any], old: dict[str, list[str]]
) -> list[str]:
    """The old backups that remain (read with each side's own key: production's snapshots
    with the production reader's, the DR side with the DR writer's)."""
    dr, prod = policy["regions"]["dr"], policy["regions"]["production"]
    left = []
    for conn_id, region in (("aws_default", prod), ("aws_dr", dr)):
        rds = aws.client(conn_id, "rds", region)
        found = {s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots()["DBSnapshots"]}
        left += [f"{region}:{name}" for name in old["snapshots"] if name in found]
    s3 = aws.client("aws_dr", "s3", dr)
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
    states["compliance_evidence_pack"] = run(dag_bag, "compliance_evidence_pack").state
    assert states == dict.fromkeys(states, "success")
    # Retention deleted the oldest of each kind, as the roles it ran under allowed.
    oldest = (datetime.now(UTC) - timedelta(days=OLD_DAYS[0])).date().isoformat()
    left = still_there(aws, settings, policy, old)
    assert [name for name in left if oldest in name] == [], left
    # Deleting them only hid the objects: Object Lock keeps their bytes a week yet. An RDS
    # snapshot has no lock: its deletion is final (None).
    hidden = {
        backup_id: until
        for record in evidence_store().read("retention")
        for backup_id, until in (record.details.get("earliest_purge") or {}).items()
        if oldest in backup_id
    }
    folders = {b: u for b, u in hidden.items() if b.endswith("/")}
    assert len(folders) == 2 + len(policy["assets"]["github"]["repositories"]), hidden
    assert all(datetime.fromisoformat(u) > datetime.now(UTC) for u in folders.values()), hidden
    assert {u for b, u in hidden.items() if b not in folders} == {None}, hidden


def test_the_dr_role_without_its_s3_backup_policy_cannot_back_up(
    dag_bag: Any, under_iam: tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]]
) -> None:
    """Enforcement is on: a policy taken away fails the DAG that needs it."""
    aws, _, _ = under_iam
    with aws.without("aws_dr", "s3_backup"):
        day = datetime.now(UTC) - timedelta(days=1)
        assert run(dag_bag, "s3_backup", WINDOW, logical_date=day).state == "failed"


def versions_held(aws: EnforcedAws, buckets: list[str], region: str) -> dict[str, int]:
    """How many versions each bucket holds (a test's own look, enforcement lifted)."""
    with aws.lifted():
        s3 = aws.client("aws_dr", "s3", region)
        return {
            bucket: sum(
                len(page.get("Versions", []))
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
            )
            for bucket in buckets
        }


def failing_clauses(evaluation: Any) -> dict[str, str]:
    """The clauses an evaluation run failed, with their texts."""
    record = evidence_store().get(
        "compliance", "policy", "compliance_evaluation", evaluation.run_id
    )
    assert record is not None
    return {c["clause"]: c["text"] for c in record.details["clauses"] if c["status"] == "fail"}


def attempt(request: Any, **arguments: Any) -> str:
    """``refused (...)`` or ``done``: what AWS answered an attacker's request."""
    try:
        answer = request(**arguments)
    except ClientError as exc:
        return f"refused ({exc.response['Error']['Code']})"
    errors = (answer or {}).get("Errors") or []  # DeleteObjects answers 200, refusing keys
    return f"refused ({errors[0]['Code']}, {len(errors)} keys)" if errors else "done"


SHORT_LIFECYCLE = {
    "Rules": [
        {
            "ID": "gone-tomorrow",
            "Status": "Enabled",
            "Filter": {},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
    ]
}
EMPTY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": []})


def test_the_workers_own_keys_cannot_destroy_a_locked_backup_or_blind_the_audit(
    dag_bag: Any, under_iam: tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]]
) -> None:
    """An attacker holding every key the workers hold tries what ransomware crews do
    first: purge every DR version (dumps, copies, manifests, bundles, evidence), shorten
    the lifecycle and the lock, replace the bucket policy, disable or schedule the
    deletion of the DR key, delete the trail, delete the day's DR snapshot copy. Every
    request is refused, by IAM or by Object Lock, and every version is still there, but
    one: RDS has no lock, and the DR writer (which retention needs to delete old copies)
    can delete the day's copy. That day stays restorable from its dump, locked in the DR
    bucket, and the next compliance evaluation fails ``tamper``, naming the copy."""
    aws = under_iam[0]
    policy = load_policy()
    dr, production = policy.regions.dr, policy.regions.production
    buckets = [*policy.assets.dr_buckets, STORE_BUCKET]
    before = versions_held(aws, buckets, dr)
    assert all(before.values()), before
    with aws.lifted():
        listing = aws.client("aws_dr", "s3", dr)
        held = {
            bucket: [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for page in listing.get_paginator("list_object_versions").paginate(Bucket=bucket)
                for v in page.get("Versions", [])
            ]
            for bucket in buckets
        }
        kms = aws.client("aws_dr", "kms", dr)
        key_id = kms.describe_key(KeyId=policy.kms_key(dr))["KeyMetadata"]["KeyId"]
    instance = policy.assets.rds[0].instance
    backup = evidence_store().latest("rds_backup", f"rds/{instance}")
    assert backup is not None
    day_copy = backup.details["copy"]["id"]
    answers: dict[str, str] = {}
    for conn_id in aws.keys:
        s3, kms = aws.client(conn_id, "s3", dr), aws.client(conn_id, "kms", dr)
        for bucket, versions in held.items():
            tried = {
                "purge every version": (
                    s3.delete_objects,
                    {"Delete": {"Objects": versions[:1000], "Quiet": True}},
                ),
                "purge one version": (s3.delete_object, versions[0]),
                "shorten the lifecycle": (
                    s3.put_bucket_lifecycle_configuration,
                    {"LifecycleConfiguration": SHORT_LIFECYCLE},
                ),
                "shorten the lock": (
                    s3.put_object_lock_configuration,
                    {"ObjectLockConfiguration": lock_configuration(1)},
                ),
                "replace the bucket policy": (s3.put_bucket_policy, {"Policy": EMPTY_POLICY}),
            }
            for what, (request, arguments) in tried.items():
                answers[f"{conn_id}: {what} in {bucket}"] = attempt(
                    request, Bucket=bucket, **arguments
                )
        answers[f"{conn_id}: disable the DR key"] = attempt(kms.disable_key, KeyId=key_id)
        answers[f"{conn_id}: schedule the DR key's deletion"] = attempt(
            kms.schedule_key_deletion, KeyId=key_id, PendingWindowInDays=7
        )
        answers[f"{conn_id}: delete the trail"] = attempt(
            aws.client(conn_id, "cloudtrail", production).delete_trail,
            Name="organisation-trail",
        )
    for conn_id in sorted(aws.keys, key=lambda c: c == "aws_dr"):  # the DR writer last
        answers[f"{conn_id}: delete the day's DR snapshot copy"] = attempt(
            aws.client(conn_id, "rds", dr).delete_db_snapshot, DBSnapshotIdentifier=day_copy
        )
    got_through = {k: v for k, v in answers.items() if not v.startswith("refused")}
    assert got_through == {"aws_dr: delete the day's DR snapshot copy": "done"}
    assert versions_held(aws, buckets, dr) == before
    with aws.lifted():
        state = aws.client("aws_dr", "kms", dr).describe_key(KeyId=key_id)["KeyMetadata"]
        assert state["KeyState"] == "Enabled"
        dump = aws.client("aws_dr", "s3", dr).head_object(
            Bucket=backup.details["dr_bucket"], Key=backup.details["dump_key"]
        )
    assert dump["ObjectLockRetainUntilDate"] > datetime.now(UTC)  # the day stays restorable
    # What got through fails its clause, naming the copy.
    evaluation = run(dag_bag, "compliance_evaluation")
    assert evaluation.state == "failed"
    failing = failing_clauses(evaluation)
    assert set(failing) == {"tamper"} and day_copy in failing["tamper"], failing


def test_retention_told_every_backup_is_old_deletes_nothing_inside_the_minimum(
    under_iam: tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]],
) -> None:
    """Retention asked to delete everything (a run dated ten years ahead, keeping one)
    still ages backups by the real clock: nothing younger than the minimum goes, and a
    floor of nothing is refused."""
    from include.dr.inventory import open_inventory
    from include.dr.retention import plan_deletions

    policy = load_policy()
    rds = policy.assets.rds[0]
    inventory = open_inventory(
        "rds_dumps",
        instance=rds.instance,
        bucket=rds.dr_bucket,
        aws_conn_id="aws_dr",
        region_name=policy.regions.dr,
    )
    backups = inventory.list_backups()
    now = datetime.now(UTC)
    young = [b.backup_id for b in backups if b.completed_at > now - timedelta(days=7)]
    assert young
    decisions = plan_deletions(backups, now + timedelta(days=3650), 7, 1, now=now)
    assert not [d for d in decisions if d.action == "delete" and d.backup_id in young]
    with pytest.raises(ValueError, match="at least 1"):
        plan_deletions(backups, now, 0, 0, now=now)


def test_the_production_administrator_cannot_reach_the_dr_account(
    dag_bag: Any, under_iam: tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]]
) -> None:
    """An attacker holding production's administrator credentials (``*`` on everything in
    that account) tries the same list. The DR side is another account: its buckets refuse
    a caller their policies do not name, and its snapshot copies and key are not found
    from production. What does get through, deleting production's own trail, fails the
    next compliance evaluation."""
    aws = under_iam[0]
    policy = load_policy()
    dr, production = policy.regions.dr, policy.regions.production
    buckets = [*policy.assets.dr_buckets, STORE_BUCKET]
    before = versions_held(aws, buckets, dr)
    with aws.lifted():
        copies = [
            s["DBSnapshotIdentifier"]
            for s in aws.client("aws_dr", "rds", dr).describe_db_snapshots()["DBSnapshots"]
        ]
        key_arn = aws.client("aws_dr", "kms", dr).describe_key(KeyId=policy.kms_key(dr))[
            "KeyMetadata"
        ]["Arn"]

    def admin(service: str, region: str) -> Any:
        return aws.signed(*admin_keys[PRODUCTION_ADMIN], service, region)

    s3, rds, kms = admin("s3", dr), admin("rds", dr), admin("kms", dr)
    answers = {
        f"delete DR snapshot copy {c}": attempt(rds.delete_db_snapshot, DBSnapshotIdentifier=c)
        for c in copies
    }
    for bucket in buckets:
        answers[f"purge {bucket}"] = attempt(
            s3.delete_objects, Bucket=bucket, Delete={"Objects": [{"Key": "x"}], "Quiet": True}
        )
        answers[f"list {bucket}"] = attempt(s3.list_objects_v2, Bucket=bucket)
        answers[f"shorten the lifecycle of {bucket}"] = attempt(
            s3.put_bucket_lifecycle_configuration,
            Bucket=bucket,
            LifecycleConfiguration=SHORT_LIFECYCLE,
        )
        answers[f"replace the policy of {bucket}"] = attempt(
            s3.put_bucket_policy, Bucket=bucket, Policy=EMPTY_POLICY
        )
    answers["disable the DR key"] = attempt(kms.disable_key, KeyId=key_arn)
    answers["schedule the DR key's deletion"] = attempt(
        kms.schedule_key_deletion, KeyId=key_arn, PendingWindowInDays=7
    )
    assert copies and {k: v for k, v in answers.items() if not v.startswith("refused")} == {}
    assert versions_held(aws, buckets, dr) == before
    with aws.lifted():
        assert sorted(
            s["DBSnapshotIdentifier"]
            for s in aws.client("aws_dr", "rds", dr).describe_db_snapshots()["DBSnapshots"]
        ) == sorted(copies)
    # Production's own trail is the administrator's to delete: the evaluation says so.
    assert (
        attempt(admin("cloudtrail", production).delete_trail, Name="organisation-trail") == "done"
    )
    evaluation = run(dag_bag, "compliance_evaluation")
    assert evaluation.state == "failed"
    # The trail, and still the DR copy the workers' keys deleted before.
    assert set(failing_clauses(evaluation)) == {"cloudtrail", "tamper"}


def test_with_production_lost_the_dr_account_alone_restores_every_kind(
    dag_bag: Any,
    under_iam: tuple[EnforcedAws, dict[str, Any], dict[str, list[str]]],
    local_stack: Path,
    settings: LocalSettings,
) -> None:
    """Production treated as lost: every production key is revoked. The restore operator,
    in the DR account, still restores the S3 data (into a bucket of the DR account), the
    database (an instance from the DR snapshot copy, and the dump into a scratch
    database) and a repository."""
    aws, document, _ = under_iam
    policy = load_policy()
    dr = policy.regions.dr
    target = f"restore-dr-{uuid.uuid4().hex[:8]}"
    with aws.lifted():
        aws.client("aws_dr", "s3", dr).create_bucket(
            Bucket=target, CreateBucketConfiguration={"LocationConstraint": dr}
        )
        iam = aws.signed(*admin_keys[PRODUCTION_ADMIN], "iam", policy.regions.production)
        for conn_id, (key, _) in aws.keys.items():
            if CONNECTION_ACCOUNTS[conn_id] == ACCOUNT:  # production's own users
                iam.delete_access_key(UserName=user_name(conn_id), AccessKeyId=key)
    instance = document["assets"]["rds"][0]["instance"]
    organisation = document["assets"]["github"]["organisation"]
    git_target = new_git_target(local_stack, organisation)
    states = {
        "restore_s3": run(
            dag_bag,
            "restore_s3",
            {
                "source_bucket": document["assets"]["s3"][0]["source"],
                "target_bucket": target,
                "target_prefix": "restored/",
                "dry_run": False,
            },
        ).state,
        "restore_rds native": run(
            dag_bag,
            "restore_rds",
            {
                "instance": instance,
                "source": "latest",
                "target_instance": f"restored-{uuid.uuid4().hex[:8]}",
                "dry_run": False,
            },
        ).state,
        "restore_rds logical": run(
            dag_bag,
            "restore_rds",
            {
                "instance": instance,
                "source": "logical_dump",
                "dump_date": datetime.now(UTC).date().isoformat(),
                "target_database": f"restore_{uuid.uuid4().hex[:8]}",
                "dry_run": False,
            },
        ).state,
        "restore_git": run(
            dag_bag,
            "restore_git",
            {
                "repository": "webapp",
                "target_url": f"git://127.0.0.1:{settings.git_daemon_port}/{organisation}/{git_target}.git",
                "dry_run": False,
            },
        ).state,
    }
    assert states == dict.fromkeys(states, "success")
    with aws.lifted():
        restored = aws.client("aws_dr", "s3", dr).list_objects_v2(Bucket=target, Prefix="restored/")
    assert restored.get("KeyCount", 0) > 0
