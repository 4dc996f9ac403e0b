"""Command line for the local stack: ``python -m include.dr.local_stack COMMAND``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from include.dr.local_stack import stack
from include.dr.local_stack.airflow_standalone import Standalone
from include.dr.local_stack.distributed import distributed_command
from include.dr.local_stack.processes import StackError
from include.dr.policy.loader import PolicyError
from include.dr.project import state_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.dr.local_stack")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start and seed moto, MariaDB and git daemon")
    commands.add_parser("down", help="stop every server this stack started")
    commands.add_parser("status", help="show which of our servers run")
    commands.add_parser(
        "enforce-iam",
        help="enforce IAM on moto: each AWS connection signed by a user holding its role's "
        "shipped policies (lifted by the next up)",
    )
    commands.add_parser("airflow", help="start airflow standalone and print the login")
    run = commands.add_parser("run", help="trigger a DAG in the running Airflow and wait")
    run.add_argument("dag_id")
    run.add_argument("--conf", default="{}", help="the run's configuration, as JSON")
    commands.add_parser("report", help="print where the newest restore-test report is")
    commands.add_parser(
        "pack", help="print where the newest evidence pack is, and verify it against the local KMS"
    )
    distributed = commands.add_parser(
        "distributed", help="Airflow on CeleryExecutor: PostgreSQL, Redis and two workers"
    )
    distributed.add_argument("action", choices=["up", "down", "status", "run"])
    distributed.add_argument("dag_ids", nargs="*", help="run: the DAGs to run side by side")
    distributed.add_argument("--conf", default="{}", help="run: each run's configuration")
    distributed.add_argument(
        "--store", choices=["file", "s3"], default="file", help="up: where the shared store is"
    )
    args = parser.parse_args(argv)
    folder = state_dir()
    try:
        if args.command == "up":
            report = stack.up(folder)
            print(f"local stack up in {folder}")
            print(f"  started: {', '.join(report.started) or 'nothing'}")
            print(f"  already running: {', '.join(report.already_running) or 'nothing'}")
            print(json.dumps(report.details, indent=2))
        elif args.command == "down":
            print(f"stopped: {', '.join(stack.down(folder)) or 'nothing was running'}")
        elif args.command == "status":
            for name, pid in stack.status(folder).items():
                print(f"  {name:<32} {'pid ' + str(pid) if pid else 'not running'}")
        elif args.command == "enforce-iam":
            from include.dr.local_stack.enforcement import enforce
            from include.dr.local_stack.settings import load_settings
            from include.dr.policy.loader import load_policy

            endpoint = load_settings().connection("aws_default")["extra"]["endpoint_url"]
            keys = enforce(folder, endpoint, load_policy())
            print(f"IAM enforced on {endpoint}: {', '.join(sorted(keys))} signed by their roles")
        elif args.command == "airflow":
            airflow = Standalone(folder)
            airflow.start()
            user, password = airflow.login()
            print(f"Airflow UI: {airflow.url}  login: {user} / {password}")
        elif args.command == "run":
            state = Standalone(folder).run_dag(args.dag_id, json.loads(args.conf))
            print(f"{args.dag_id}: {state}")
            return 0 if state == "success" else 1
        elif args.command == "distributed":
            return distributed_command(
                folder, args.action, args.dag_ids, json.loads(args.conf), args.store
            )
        elif args.command == "report":
            from include.dr.evidence import evidence_store

            found = evidence_store().latest("restore_test", "all")
            if found is None:
                print("no restore test has run yet")
                return 1
            where = found.details["report"]
            print(
                f"restore test {found.outcome}: {where['html']}\nencrypted copy: {where['dr_copy']}"
            )
        elif args.command == "pack":
            return show_pack(folder)
    except (StackError, PolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def show_pack(folder: Path) -> int:
    """The newest evidence pack, checked as an auditor would (against the key KMS holds),
    with the DR side's keys of the local stack, and the command to check it yourself."""
    import os
    import subprocess

    from include.dr.evidence_pack.stored import newest_pack
    from include.dr.local_stack.enforcement import KEYS_FILE, signed_by_users
    from include.dr.local_stack.settings import load_settings

    found = newest_pack()
    if found is None:
        print("no evidence pack yet: trigger compliance_evidence_pack")
        return 1
    path = str(found.path)
    dr = signed_by_users(load_settings(), folder).connection("aws_dr")
    endpoint = dr["extra"]["endpoint_url"]
    command = [sys.executable, "-m", "include.dr.evidence_pack", "verify", path, "--kms"]
    print(f"evidence pack: {path}")
    checked = subprocess.run(  # noqa: S603 - our own CLI on a path of our own
        [*command, "--endpoint-url", endpoint],
        env={
            **os.environ,
            "AWS_ACCESS_KEY_ID": dr["login"],
            "AWS_SECRET_ACCESS_KEY": dr["password"],
        },
        check=False,
    )
    print(
        "check it yourself with the DR writer's keys in the environment (while IAM is "
        f"enforced: aws_dr's pair in {folder / KEYS_FILE}, AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY): "
        f".venv/bin/python -m include.dr.evidence_pack verify {path} --kms --endpoint-url "
        f"{endpoint}\n  or with openssl and the AWS CLI: "
        f"AWS_ENDPOINT_URL={endpoint} include/dr/evidence_pack/verify-with-openssl.sh {path}"
    )
    return checked.returncode


if __name__ == "__main__":
    sys.exit(main())
