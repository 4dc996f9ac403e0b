"""The trigger forms of the manual DAGs: JSON-schema ``Param``\\s the UI renders as forms.

One module, so every form reads alike: dry run on by default, every field with a
title and help, nullable optional fields typed ``["null", ...]``. The restore forms'
first field says roughly how much the restore moves (:mod:`include.dr.restore_estimate`,
read when the DAG file is parsed; Markdown, so its help is ``description_md``). The server
re-validates every field (the restore's pure request validation) before anything
changes. Each DAG file passes its form as ``params=``.
"""

from __future__ import annotations

# --- restore_rds ---


def restore_rds_form(instances: list[str]) -> dict[str, object]:
    """restore_rds: which instance, from which backup, into what new target, and dry run."""
    from airflow.sdk import Param

    from include.dr.restore_estimate import form_note

    return {
        "instance": Param(
            instances[0] if instances else "",
            type="string",
            enum=instances or [""],
            title="Backed-up instance",
            description_md="The production instance whose backup to restore.\n\n"
            + form_note("rds", instances),
        ),
        "source": Param(
            "latest",
            type="string",
            enum=["latest", "snapshot", "point_in_time", "logical_dump"],
            title="Restore from",
            description="latest DR snapshot; a snapshot by id; a point in time; or a "
            "logical dump by date (into a MySQL database).",
        ),
        "snapshot_id": Param(
            None,
            type=["null", "string"],
            title="Snapshot id (source 'snapshot')",
            description="A DR snapshot, e.g. swl-customers-prod-2026-11-26.",
            maxLength=255,
        ),
        "restore_time": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Restore time (source 'point_in_time', UTC)",
        ),
        "region": Param(
            "production",
            type="string",
            enum=["production", "dr"],
            title="Region (source 'point_in_time')",
            description="dr needs the instance's automated backups replicated to the DR "
            "region (pitr_in_dr_region in the policy, checked by the preflight).",
        ),
        "dump_date": Param(
            None,
            type=["null", "string"],
            title="Dump date (source 'logical_dump')",
            description="The day whose dump to load, YYYY-MM-DD.",
        ),
        "target_instance": Param(
            None,
            type=["null", "string"],
            title="New instance name (instance sources)",
            description="restored-..., e.g. restored-customers. Must not exist yet.",
            maxLength=63,
        ),
        "target_database": Param(
            "restore_customers",
            type=["null", "string"],
            title="Target database (source 'logical_dump')",
            description="A new or empty database on the mysql_restore connection's server.",
            maxLength=64,
        ),
        "instance_class": Param(
            None,
            type=["null", "string"],
            title="Instance class",
            description="e.g. db.t3.micro; empty keeps the snapshot's class.",
        ),
        "subnet_group": Param(
            None,
            type=["null", "string"],
            title="DB subnet group",
            description="Empty: AWS uses the default DB subnet group.",
        ),
        "security_group_ids": Param(
            [],
            type="array",
            items={"type": "string"},
            title="VPC security group ids",
            description="Empty: AWS attaches the VPC's default security group.",
        ),
        "dry_run": Param(
            True,
            type="boolean",
            title="Dry run",
            description="Check the request and name the backup; create nothing.",
        ),
    }


# --- restore_s3 ---


def restore_s3_form(sources: list[str]) -> dict[str, object]:
    """restore_s3: which bucket and prefix, as of when, where to, and the guards."""
    from airflow.sdk import Param

    from include.dr.restore_estimate import form_note

    return {
        "source_bucket": Param(
            sources[0] if sources else "",
            type="string",
            enum=sources or [""],
            title="Backed-up bucket",
            description_md="The production bucket whose backup to restore.\n\n"
            + form_note("s3", sources),
        ),
        "prefix": Param(
            None,
            type=["null", "string"],
            title="Prefix",
            description="Only keys under this prefix (e.g. invoices/2026/); empty for all.",
            maxLength=512,
        ),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="As of",
            description="Restore the objects as they were at this time (UTC): the newest "
            "backup finished by then is used. Empty: the latest backup.",
        ),
        "target_bucket": Param(
            "",
            type="string",
            title="Target bucket",
            description="An existing bucket named restore-..., or the source bucket itself "
            "(it needs the confirmation below). A DR bucket is refused.",
            maxLength=63,
        ),
        "target_prefix": Param(
            "restored/",
            type=["null", "string"],
            title="Target prefix",
            description="Prepended to every restored key. Empty restores to the original keys.",
            maxLength=512,
        ),
        "confirm_production_bucket": Param(
            None,
            type=["null", "string"],
            title="Confirm restoring into a production bucket",
            description="Only when the target is a production bucket: type its name.",
        ),
        "dry_run": Param(
            True,
            type="boolean",
            title="Dry run",
            description="Report what would be restored (counts, bytes, a sample of keys); "
            "change nothing.",
        ),
    }


# --- restore_git ---


def restore_git_form(organisation: str, repositories: tuple[str, ...] | None) -> dict[str, object]:
    """restore_git: which repository, which day's bundle, where to push, and the guards."""
    from typing import Any

    from airflow.sdk import Param

    from include.dr.restore_estimate import form_note

    repository: dict[str, Any] = (
        {"enum": list(repositories), "default": repositories[0]}
        if repositories
        else {"pattern": "^[A-Za-z0-9._-]{1,100}$", "default": ""}
    )
    return {
        "repository": Param(
            type="string",
            title="Repository",
            description_md=f"The repository of {organisation} to restore.\n\n"
            + form_note("git", [f"{organisation}/{name}" for name in repositories or ()]),
            **repository,
        ),
        "backup_date": Param(
            "latest",
            type="string",
            title="Backup date",
            description="The day's backup to push (YYYY-MM-DD), or 'latest'.",
            pattern=r"^(latest|\d{4}-\d{2}-\d{2})$",
        ),
        "target_url": Param(
            "",
            type="string",
            title="Target remote URL",
            description="Where to push, e.g. https://github.com/org/webapp-restored.git. "
            "Create the (empty) repository first. No credentials in the URL: the push "
            "uses the github_restore connection (write and workflow scopes), never the "
            "backup's read-only github_default.",
            minLength=1,
            maxLength=500,
        ),
        "confirm_original": Param(
            None,
            type=["null", "string"],
            title="Confirm pushing into the original repository",
            description="Only when the target is the original repository: type its full "
            f"name ({organisation}/<repository>).",
        ),
        "overwrite_refs": Param(
            False,
            type="boolean",
            title="Overwrite branches whose history differs",
            description="Force-update such branches to the backup (e.g. to undo a force-push).",
        ),
        "delete_other_refs": Param(
            False,
            type="boolean",
            title="Delete branches and tags the backup does not have",
            description="Off: nothing at the target is deleted.",
        ),
        "dry_run": Param(
            True,
            type="boolean",
            title="Dry run",
            description="Check the request and show what the push would change; change nothing.",
        ),
    }


# --- restore_test ---


def restore_test_form() -> dict[str, object]:
    """restore_test: which assets to test, and whether to keep the scratch space."""
    from airflow.sdk import Param

    return {
        "assets": Param(
            ["rds", "s3", "git"],
            type="array",
            items={"type": "string", "enum": ["rds", "s3", "git"]},
            uniqueItems=True,
            title="Assets to test",
        ),
        "keep_scratch": Param(
            False,
            type="boolean",
            title="Keep the scratch resources for inspection",
            description="Off: the scratch database, bucket and instance are removed at the end.",
        ),
    }


# --- compliance_evidence_pack ---


def evidence_pack_form(clauses: list[str]) -> dict[str, object]:
    """compliance_evidence_pack: the period (empty: the last 30 days) and the clauses."""
    from airflow.sdk import Param

    return {
        "period_start": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Period start",
            description="The first day, YYYY-MM-DD in the policy's time zone. Empty: 30 "
            "days before the end.",
        ),
        "period_end": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Period end",
            description="The last day, included. Empty: the run's day. Not before the start.",
        ),
        "clauses": Param(
            list(clauses),
            type="array",
            items={"type": "string", "enum": list(clauses)},
            uniqueItems=True,
            minItems=1,
            title="Clauses",
            description="The policy clauses whose verdicts the summary gives; all by default. "
            "Every evidence record of the period is included whatever is chosen.",
        ),
    }
