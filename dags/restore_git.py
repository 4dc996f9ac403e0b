"""
### Restore a repository from its backup

Pushes one dated backup of a repository (its encrypted bundle from the local
backup store) to a git remote: a new, empty repository, or, with confirmation,
the original one.

**How to use.** Trigger with the form. Leave **dry run** on first: the run
checks the request and lists what the push would create, update or leave alone
at the target, and changes nothing. Then trigger again with dry run off.

**Guards.**
- The request is checked again by the first task (a run's configuration can
  bypass the form); each refusal names the field and changes nothing: an
  unknown repository, a date without a backup, a malformed URL, a URL holding
  credentials, an unreachable target.
- Pushing into the original GitHub repository needs its full name typed in
  **confirm original**.
- Nothing at the target is deleted unless **delete other refs** is set, and a
  branch whose history differs is overwritten only with **overwrite refs**
  (needed to undo a force-push in the original repository).

Branches and tags are pushed. The evidence records who triggered the restore,
which backup, the target, the refs before and after, and the outcome; a message
goes to the alerts topic when it finishes or fails.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Param, chain, dag, task

from include.dr.dag_defaults import DEFAULT_ARGS
from include.dr.policy.loader import load_policy
from include.dr.restores import RESTORE_CALLBACKS

POLICY = load_policy()
GITHUB = POLICY.assets.github
ORGANISATION = GITHUB.organisation if GITHUB else ""
REPOSITORY: dict[str, Any] = (
    {"enum": list(GITHUB.repositories), "default": GITHUB.repositories[0]}
    if GITHUB and GITHUB.repositories
    else {"pattern": "^[A-Za-z0-9._-]{1,100}$", "default": ""}
)


@dag(
    dag_id="restore_git",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore", "git", "manual"],
    params={
        "repository": Param(
            type="string",
            title="Repository",
            description=f"The repository of {ORGANISATION} to restore.",
            **REPOSITORY,
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
            "Create the (empty) repository first. No credentials in the URL: the token "
            "comes from the github_default connection.",
            minLength=1,
            maxLength=500,
        ),
        "confirm_original": Param(
            None,
            type=["null", "string"],
            title="Confirm pushing into the original repository",
            description="Only when the target is the original repository: type its full "
            f"name ({ORGANISATION}/<repository>).",
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
    },
    **RESTORE_CALLBACKS,
)
def restore_git() -> None:
    @task
    def validate_request(**context: Any) -> dict[str, Any]:
        """Re-check the form server-side; refuse by field before anything is read or pushed."""
        from include.dr.git import restore
        from include.dr.git.backup import bundles_dir
        from include.dr.git.connections import git_remote
        from include.dr.restores import RestoreRefused, record_restore

        params = dict(context["params"])
        try:
            remote = git_remote()
            request = restore.validate_request(params, ORGANISATION, bundles_dir(), remote)
            restore.remote_refs(request["target_url"], remote)  # reachable, or refused
            return request
        except RestoreRefused as exc:
            asset = f"git/{ORGANISATION}/{params.get('repository')}"
            record_restore(context, asset, "fail", {"refused": exc.field, "reason": str(exc)})
            raise

    @task
    def plan_push(request: dict[str, Any], **context: Any) -> dict[str, Any]:
        """The backup's refs against the target's: what the push would change."""
        from include.dr.git import restore
        from include.dr.git.backup import bundles_dir
        from include.dr.git.connections import git_remote
        from include.dr.restores import record_restore

        record = restore.describe_bundle(bundles_dir(), request)
        before = restore.remote_refs(request["target_url"], git_remote())
        plan = {
            **request,
            "bundle_sha256": record.sha256,
            "target_refs_before": before,
            "changes": restore.plan_push(record, before),
        }
        record_restore(context, _asset(request), "pass", {"step": "plan", **plan})
        return plan

    @task
    def push(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Push the backup (unless this is a dry run) and prove the target now matches it."""
        from include.dr.git import restore
        from include.dr.git.backup import bundles_dir
        from include.dr.git.connections import bundle_key, git_remote
        from include.dr.restores import RestoreIncomplete, record_restore

        if plan["dry_run"]:
            record_restore(context, _asset(plan), "pass", {"step": "dry run", **plan})
            return {"dry_run": True, "changes": plan["changes"]}
        checked = restore.push_and_check(bundles_dir(), plan, bundle_key(), git_remote())
        ok = checked["refs_equal_backup"]
        record_restore(
            context, _asset(plan), "pass" if ok else "fail", {"step": "restored", **plan, **checked}
        )
        if not ok:
            raise RestoreIncomplete(
                f"the target does not hold the backup's refs {checked['differing_refs']} "
                f"({checked['push_error'] or 'rejected'}); set overwrite_refs to replace "
                "branches whose history differs"
            )
        return {"pushed": checked["refs_pushed"], "target_url": plan["target_url"]}

    chain(push(plan_push(validate_request())))


def _asset(request: dict[str, Any]) -> str:
    return f"git/{request['organisation']}/{request['repository']}"


restore_git()
