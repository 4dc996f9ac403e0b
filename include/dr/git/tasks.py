"""The git DAGs' task adapters: each gathers its inputs (connections, clients, the run),
calls the domain code inside the task boundary, and returns a typed plan for XCom.

Only ``airflow.sdk`` is imported here; the rest loads inside the task that needs it,
so parsing a DAG file stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import task

if TYPE_CHECKING:
    from include.dr.git.plans import (
        BackupPlan,
        Batch,
        BatchResult,
        PushPlan,
        RestoreRequest,
        RetentionTarget,
    )

# --- git_backup ---


@task
def plan_repositories(**context: Any) -> BackupPlan:
    """Check the DR bucket, then list the repositories in at most four batches."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR
    from include.dr.git.connections import bundles_of_record, git_remote, github_client
    from include.dr.git.planning import plan_repositories
    from include.dr.git.upload import check_dr_bucket_for_bundles
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary("planning the git backup"):
        policy = load_policy()
        dr = hook_clients(AWS_DR)
        region = policy.regions.dr
        key_arn = check_dr_bucket_for_bundles(policy, dr("s3", region), dr("kms", region), run)
        pinned = policy.assets.github is not None and policy.assets.github.repositories
        client = None if pinned else github_client()
        organisation = policy.assets.github.organisation if policy.assets.github else ""
        recorded = bundles_of_record(policy).repositories(organisation)
        return plan_repositories(policy, run.logical_time, git_remote(), client, key_arn, recorded)


@task
def batches(plan: BackupPlan) -> list[Batch]:
    """The mapped tasks' arguments: at most four batches of repositories."""
    return list(plan["batches"])


@task(max_active_tis_per_dag=4)
def back_up_batch(batch: Batch, **context: Any) -> BatchResult:
    """Mirror, fsck, bundle and upload each repository of the batch (a thread pool);
    retried with backoff for the repositories that may mend, while tries remain."""
    from include.dr.aws_clients import hook_clients
    from include.dr.connections import AWS_DR
    from include.dr.git.backup import back_up_batch
    from include.dr.git.connections import bundle_key, git_remote
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary(f"backing up a batch of {batch['organisation']}"):
        dr_s3 = hook_clients(AWS_DR)("s3", batch["dr_region"]) if batch["dr_bucket"] else None
        return back_up_batch(batch, git_remote(), bundle_key(), dr_s3, run)


@task
def summarise(plan: BackupPlan, results: list[BatchResult], **context: Any) -> dict[str, Any]:
    """The organisation's evidence; fails the run, naming them, if a repository failed,
    and alerts once if any was emptied upstream."""
    from include.dr import alerts
    from include.dr.git.backup import summarise
    from include.dr.policy.loader import load_policy
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary(f"summarising the git backup of {plan['organisation']}"):
        policy = load_policy()
        return summarise(
            plan,
            list(results),
            run,
            alert=lambda subject, message: alerts.send(policy, subject, message),
        )


@task
def retention_targets(plan: BackupPlan, results: list[BatchResult]) -> list[RetentionTarget]:
    """Bundles of the repositories backed up this run: local store and DR bucket."""
    from include.dr.connections import AWS_DR
    from include.dr.git.planning import retention_targets

    return retention_targets(plan, [n for r in results for n in r["backed_up"]], AWS_DR)


# --- restore_git ---


@task
def validate_request(**context: Any) -> RestoreRequest:
    """Re-check the form server-side; refuse by field before anything is read or pushed.
    The restore pushes with its own credential (``github_restore``), never the backup's."""
    from include.dr.asset_names import git_asset
    from include.dr.connections import AWS_RESTORE, GITHUB_RESTORE
    from include.dr.git import restore
    from include.dr.git.connections import (
        RestoreCredentialMissing,
        bundles_of_record,
        git_remote,
        restore_remote,
    )
    from include.dr.policy.loader import load_policy
    from include.dr.restores import RestoreRefused, record_restore
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    params, run = dict(context["params"]), RunInfo.from_context(context)
    with task_boundary("checking the restore request"):
        policy = load_policy()
        github = policy.assets.github
        organisation = github.organisation if github else ""
        asset = git_asset(organisation, str(params.get("repository")))
        try:
            pusher = restore_remote()
            bundles = bundles_of_record(policy, AWS_RESTORE)
            # The original repository's URL is where the backup reads from.
            request = restore.validate_request(params, organisation, bundles, git_remote())
            restore.remote_refs(request["target_url"], pusher)  # reachable, or refused
            return request
        except RestoreRefused as exc:
            record_restore(run, asset, "fail", {"refused": exc.field, "reason": str(exc)})
            raise
        except RestoreCredentialMissing as exc:
            record_restore(run, asset, "fail", {"refused": GITHUB_RESTORE, "reason": str(exc)})
            raise


@task
def plan_push(request: RestoreRequest, **context: Any) -> PushPlan:
    """The backup's refs against the target's: what the push would change."""
    from include.dr.asset_names import git_asset
    from include.dr.connections import AWS_RESTORE
    from include.dr.git import restore
    from include.dr.git.connections import bundles_of_record, restore_remote
    from include.dr.policy.loader import load_policy
    from include.dr.restores import record_restore
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    run = RunInfo.from_context(context)
    with task_boundary("planning the push"):
        plan = restore.push_plan(
            bundles_of_record(load_policy(), AWS_RESTORE), request, restore_remote()
        )
        asset = git_asset(request["organisation"], request["repository"])
        record_restore(run, asset, "pass", {"step": "plan", **plan})
        return plan


@task
def push(plan: PushPlan, **context: Any) -> dict[str, Any]:
    """Push the backup (unless this is a dry run) and prove the target now matches it."""
    from include.dr.asset_names import git_asset
    from include.dr.connections import AWS_RESTORE
    from include.dr.git import restore
    from include.dr.git.connections import bundle_key, bundles_of_record, restore_remote
    from include.dr.policy.loader import load_policy
    from include.dr.restores import record_restore
    from include.dr.run_info import RunInfo
    from include.dr.task_boundary import task_boundary

    run, asset = RunInfo.from_context(context), git_asset(plan["organisation"], plan["repository"])
    with task_boundary("pushing the backup"):
        if plan["dry_run"]:
            record_restore(run, asset, "pass", {"step": "dry run", **plan})
            return {"dry_run": True, "changes": plan["changes"]}
        bundles = bundles_of_record(load_policy(), AWS_RESTORE)
        checked = restore.push_and_check(bundles, plan, bundle_key(), restore_remote())
        ok = checked["refs_equal_backup"]
        details = {"step": "restored", **plan, **checked}
        record_restore(run, asset, "pass" if ok else "fail", details)
        restore.check_restored(checked)
        return {
            "pushed": checked["refs_pushed"],
            "pushes": checked.get("pushes", 0),
            "target_url": plan["target_url"],
        }
