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
   fails the run and is named; a network failure is retried first, a repository
   refused or gone upstream is not. It keeps its mirror and bundles and is
   reported, never pruned. An empty repository (no commits) is recorded as having
   nothing to bundle and passes; one emptied upstream (every branch and tag
   deleted) keeps its mirror and bundles as they were, warns and alerts;
6. applies **retention** to the bundles of the repositories backed up (never to
   an empty or emptied one), and checks completion against the window.

The GitHub credential comes from the `github_default` connection: a read-only
token in its password, or a GitHub App (`app_id`, `installation_id`, `private_key`
in its extra) whose installation token is minted for git and minted again before
its hour runs out. It is sent to git as a header, never in a URL. The bundle key
comes from `git_bundle_key`.
"""

from __future__ import annotations

from airflow.sdk import Asset, chain, dag

from include.dr.dag_defaults import daily_backup_dag_args, daily_in_window
from include.dr.git import tasks
from include.dr.operators.retention import PolicyRetentionOperator
from include.dr.operators.window import BackupWindowCompletionOperator, BackupWindowGateOperator
from include.dr.policy.loader import load_policy

POLICY = load_policy()
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
    gate = BackupWindowGateOperator(
        task_id="open_window_gate", override_window="{{ params.override_window }}"
    )
    plan = tasks.plan_repositories()
    results = tasks.back_up_batch.expand(batch=tasks.batches(plan))
    summary = tasks.summarise(plan, results)
    targets = tasks.retention_targets(plan, results)
    retention = PolicyRetentionOperator.partial(
        task_id="apply_retention", max_active_tis_per_dag=8
    ).expand_kwargs(targets)
    completion = BackupWindowCompletionOperator(
        task_id="check_window_completion", outlets=GIT_BACKUPS
    )
    chain(gate, plan, results, summary, targets, retention, completion)


git_backup()
