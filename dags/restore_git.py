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

**Credential.** The push (and the listing of the target's refs) uses the
`github_restore` connection only: a token that may write to the target, with the
`workflow` scope (a fine-grained token or GitHub App: Contents and Workflows,
read and write), since a backup holding `.github/workflows/` cannot be pushed
without it. The daily backup's `github_default` stays read-only and is never
used to push; without `github_restore` the run fails first, naming it, and
nothing is pushed.

**Large repositories.** A backup whose pack exceeds `BACKUP_GIT_PUSH_LIMIT_BYTES`
(1 GiB) is pushed branch by branch in increments under it (GitHub refuses a
single push over 2 GiB), then as a whole; no increment deletes anything.

Branches and tags are pushed. The evidence records who triggered the restore,
which backup, the target, the refs before and after, and the outcome; a message
goes to the alerts topic when it finishes or fails.
"""

from __future__ import annotations

from airflow.sdk import dag

from include.dr.dag_defaults import DEFAULT_ARGS
from include.dr.forms import restore_git_form
from include.dr.git import tasks
from include.dr.policy.loader import load_policy
from include.dr.restores import RESTORE_CALLBACKS

GITHUB = load_policy().assets.github


@dag(
    dag_id="restore_git",
    schedule=None,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
    tags=["restore", "git", "manual"],
    params=restore_git_form(
        GITHUB.organisation if GITHUB else "", GITHUB.repositories if GITHUB else None
    ),
    **RESTORE_CALLBACKS,
)
def restore_git() -> None:
    request = tasks.validate_request()
    plan = tasks.plan_push(request)
    tasks.push(plan)


restore_git()
