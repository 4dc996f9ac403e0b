"""``make aws-smoke``: check a real AWS account without changing anything in it.

1. The preflight, through the Airflow connections (the same checks the
   ``policy_preflight`` DAG makes).
2. ``iam:SimulatePrincipalPolicy`` of every recorded call against the deployed role of
   its connection: AWS's own evaluator, conditions and resources included, on the
   policies as deployed (a hand edit in the console shows up here).
3. A dry run of each restore (``airflow dags test`` with ``dry_run``): the backups are
   found and the targets checked, nothing is written.

It runs only where credentials are present, and says plainly that it skipped otherwise.
What it cannot prove: that the calls of a path the tests never took are allowed (the
inventory holds only what the suite did), and anything a dry run does not touch (a real
restore's writes, the KMS grants RDS takes while copying).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

from include.dr.connections import AWS_DR, AWS_PRODUCTION
from include.dr.iam.actions import Grant
from include.dr.iam.policies import ROLES, SIDES, required
from include.dr.infra.files import committed_calls
from include.dr.local_stack.settings import STORE_BUCKET
from include.dr.policy.model import BackupPolicy

SIMULATE_BATCH = 50  # SimulatePrincipalPolicy takes few actions and resources at once


def dry_runs(policy: BackupPolicy) -> dict[str, dict[str, Any]]:
    """A dry run of each restore, of the policy's first asset of each kind: the backup
    is found and the request checked, nothing is written."""
    requests: dict[str, dict[str, Any]] = {}
    if policy.assets.s3:
        requests["restore_s3"] = {"source_bucket": policy.assets.s3[0].source, "dry_run": True}
    if policy.assets.rds:
        requests["restore_rds"] = {
            "instance": policy.assets.rds[0].instance,
            "source": "latest",
            "target_instance": "aws-smoke-dry-run",
            "dry_run": True,
        }
    github = policy.assets.github
    if github and github.repositories:
        name = github.repositories[0]
        requests["restore_git"] = {
            "repository": name,
            "target_url": f"https://github.com/{github.organisation}/{name}.git",
            "dry_run": True,  # lists what a push would change, pushes nothing
        }
    return requests


def credentials_present() -> bool:
    import boto3

    return boto3.Session().get_credentials() is not None


def simulate(iam: Any, role_arn: str, grants: Iterable[Grant]) -> list[str]:
    """The grants AWS's evaluator refuses the role, one line each."""
    refused = []
    by_resource: dict[str, list[str]] = {}
    for grant in grants:
        resource = grant.resource.replace("*", "smoke-test") if grant.resource != "*" else "*"
        by_resource.setdefault(resource, []).append(grant.action)
    for resource, actions in sorted(by_resource.items()):
        for start in range(0, len(actions), SIMULATE_BATCH):
            answer = iam.simulate_principal_policy(
                PolicySourceArn=role_arn,
                ActionNames=actions[start : start + SIMULATE_BATCH],
                ResourceArns=[resource],
            )
            refused += [
                f"{result['EvalActionName']} on {resource}: {result['EvalDecision']}"
                for result in answer["EvaluationResults"]
                if result["EvalDecision"] != "allowed"
            ]
    return refused


def main() -> int:
    if not credentials_present():
        print("aws-smoke skipped: no AWS credentials here (set AWS_PROFILE or the keys).")
        return 0
    import boto3

    from include.dr.aws_clients import account_of, hook_clients
    from include.dr.policy.loader import load_policy
    from include.dr.preflight import dr_checks, production_checks

    policy = load_policy()
    failures: list[str] = []
    checks = production_checks(policy, hook_clients(AWS_PRODUCTION))
    production = account_of(hook_clients(AWS_PRODUCTION), policy.regions.production)
    checks += dr_checks(policy, hook_clients(AWS_DR), production)
    failures += [
        f"preflight {c.name} on {c.resource}: {c.found}; {c.fix}" for c in checks if not c.passed
    ]
    # Each account's roles are simulated there, by its administrator's profile (IAM's
    # simulator needs iam:SimulatePrincipalPolicy, which no backup role holds).
    sessions = {
        side: boto3.Session(profile_name=os.environ.get(f"AWS_SMOKE_{side.upper()}_PROFILE"))
        for side in ("production", "dr")
    }
    accounts = {
        side: session.client("sts").get_caller_identity()["Account"]
        for side, session in sessions.items()
    }
    by_region = {
        policy.regions.production: accounts["production"],
        policy.regions.dr: accounts["dr"],
    }
    store_bucket = os.environ.get("BACKUP_STORE_BUCKET", STORE_BUCKET)
    for connection, families in required(
        committed_calls(), policy, store_bucket, by_region
    ).items():
        side = SIDES[connection]
        role_arn = f"arn:aws:iam::{accounts[side]}:role/{ROLES[connection]}"
        grants = {grant for found in families.values() for grant in found}
        iam = sessions[side].client("iam")
        failures += [f"{ROLES[connection]}: {line}" for line in simulate(iam, role_arn, grants)]
    for dag_id, conf in dry_runs(policy).items():
        done = subprocess.run(  # noqa: S603 - a fixed airflow command
            [sys.executable, "-m", "airflow", "dags", "test", dag_id, "--conf", json.dumps(conf)],
            check=False,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            failures.append(f"{dag_id} dry run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    for line in failures:
        print(f"FAIL {line}")
    print("aws-smoke: " + ("passed" if not failures else f"{len(failures)} failure(s)"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
