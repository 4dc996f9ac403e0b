"""
### Daily git backup

The policy: source code is hosted on GitHub and backed up locally every day, so
that if GitHub loses data the code is restored from these backups. For the
organisation in `include/policy.yaml` (its pinned repository list, or every
repository the GitHub API lists, with the policy's fork, archive and wiki
options), each run:

1. **opens the window gate** (waits deferred before the window, fails after it
   unless triggered with `override_window`);
2. **checks the DR bucket** (region, versioning, SSE-KMS with the DR key,
   lifecycle, TLS-only) when the policy uploads bundles there, and **plans** the
   repositories in at most four batches (mapped tasks). Discovery respects the
   GitHub API quota: it waits out a short reset and stops clearly on a long one;
3. **mirrors** each repository into the local mirror cache (`git clone --mirror`
   the first time, an atomic incremental fetch after) and runs `git fsck`;
4. writes the day's **bundle** (`git bundle create --all`), streamed through
   AES-256-GCM so plaintext never touches the disk, decrypted back and checked
   by `git bundle verify`, and uploads it to the DR bucket with SSE-KMS. Mirrors
   follow upstream force-pushes; yesterday's bundle does not, so rewritten or
   deleted history stays restorable;
5. records **evidence** per repository (refs and SHAs, fsck, bundle digest and
   size, durations). One repository failing does not stop the others, but it
   fails the run and is named. A repository gone upstream keeps its mirror and
   bundles and is reported, never pruned. An empty repository (no commits) is
   recorded as having nothing to bundle and passes; one emptied upstream (every
   branch and tag deleted) keeps its mirror and bundles as they were, warns and
   alerts;
6. applies **retention** to the bundles of the repositories backed up (never to
   an empty or emptied one), and
   checks completion against the window.

The GitHub token comes from the `github_default` connection (sent to git as a
header, never in a URL); the bundle key from `git_bundle_key`.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, chain, dag, task

from include.dr.dag_defaults import daily_backup_dag_args, daily_in_window
from include.dr.operators.retention import PolicyRetentionOperator
from include.dr.operators.window import BackupWindowCompletionOperator, BackupWindowGateOperator
from include.dr.policy.loader import load_policy

POLICY = load_policy()
DR = "aws_dr"
ORGANISATION = POLICY.assets.github.organisation if POLICY.assets.github else "none"
GIT_BACKUPS = [Asset(name=f"git_backup__{ORGANISATION}", uri=f"file:///git-bundles/{ORGANISATION}")]


@dag(
    dag_id="git_backup",
    schedule=daily_in_window(POLICY.schedule.window),
    doc_md=__doc__,
    tags=["backup", "git", "daily"],
    **daily_backup_dag_args(POLICY),
)
def git_backup() -> None:
    open_window_gate = BackupWindowGateOperator(
        task_id="open_window_gate", override_window="{{ params.override_window }}"
    )

    @task
    def plan_repositories(**context: Any) -> dict[str, Any]:
        """Check the DR bucket, then list the repositories in at most four batches."""
        from include.dr.aws_clients import hook_clients
        from include.dr.git import backup
        from include.dr.git.connections import git_remote, github_client
        from include.dr.operators.run_context import logical_time

        policy = load_policy()
        dr = hook_clients(DR)
        key_arn = backup.check_dr_bucket_for_bundles(
            policy,
            dr("s3", policy.regions.dr),
            dr("kms", policy.regions.dr),
            context["dag"].dag_id,
            context["run_id"],
        )
        pinned = policy.assets.github is not None and policy.assets.github.repositories
        client = None if pinned else github_client()
        return backup.plan_repositories(
            policy, logical_time(context), git_remote(), client, key_arn
        )

    @task
    def batches(plan: dict[str, Any]) -> list[dict[str, Any]]:
        """The mapped tasks' arguments: at most four batches of repositories."""
        return list(plan["batches"])

    @task(max_active_tis_per_dag=4)
    def back_up_batch(batch: dict[str, Any], **context: Any) -> dict[str, Any]:
        """Mirror, fsck, bundle and upload each repository of the batch (a thread pool);
        retried with backoff for the repositories that failed, while tries remain."""
        from include.dr.aws_clients import hook_clients
        from include.dr.git import backup
        from include.dr.git.connections import bundle_key, git_remote

        dr_s3 = hook_clients(DR)("s3", batch["dr_region"]) if batch["dr_bucket"] else None
        dag_id, run_id, ti = context["dag"].dag_id, context["run_id"], context["ti"]
        return backup.back_up_batch(
            batch, git_remote(), bundle_key(), dr_s3, dag_id, run_id, ti.try_number, ti.max_tries
        )

    @task
    def summarise(plan: dict[str, Any], results: list[dict[str, Any]], **context: Any) -> Any:
        """The organisation's evidence; fails the run, naming them, if a repository failed,
        and alerts once if any was emptied upstream."""
        from include.dr import alerts
        from include.dr.git.backup import summarise

        policy = load_policy()
        return summarise(
            plan,
            results,
            context["dag"].dag_id,
            context["run_id"],
            alert=lambda subject, message: alerts.send(policy, subject, message),
        )

    @task
    def retention_targets(plan: dict[str, Any], results: list[dict[str, Any]]) -> Any:
        """Bundles of the repositories backed up this run: local store and DR bucket."""
        from include.dr.git.backup import retention_targets

        return retention_targets(plan, [n for r in results for n in r["backed_up"]], DR)

    plan = plan_repositories()
    results = back_up_batch.expand(batch=batches(plan))
    summary = summarise(plan, results)
    targets = retention_targets(plan, results)
    apply_retention = PolicyRetentionOperator.partial(
        task_id="apply_retention", max_active_tis_per_dag=8
    ).expand_kwargs(targets)
    check_window_completion = BackupWindowCompletionOperator(
        task_id="check_window_completion", outlets=GIT_BACKUPS
    )
    chain(open_window_gate, plan)
    chain(summary, targets)
    chain(apply_retention, check_window_completion)


git_backup()
