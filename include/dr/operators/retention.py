"""The minimum-retention operator: deletes only what the policy allows, with a reason each.

Custom because no provider operator applies a retention policy: the provider's
delete operators delete what they are told. This one plans with the pure
:func:`include.dr.retention.plan_deletions`, records the plan as evidence, then
carries it out unless ``plan_only`` is set.

Deleting never asks S3 for what Object Lock forbids: an S3 backup is deleted by key (a
delete marker), never by version, and the evidence records, per deleted backup, until
when its lock still keeps the bytes (``earliest_purge``; ``None`` where nothing locks
them, as for RDS snapshots).

A deletion is recorded only when it happened. A backup that could not be (fully)
deleted, say S3 refused some of its keys, is recorded under ``not_deleted`` with the
keys and why, the other deletions go ahead, and the task then fails: at once when
retrying cannot mend it (AccessDenied), with retries when it may (throttling).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from include.dr.errors import BackupError, Permanent, Transient, from_client_error
from include.dr.evidence import Outcome
from include.dr.evidence import record as record_evidence
from include.dr.inventory import KEYS_NAMED, DeletionIncomplete, open_inventory
from include.dr.operators.run_context import as_flag, logical_time
from include.dr.policy.loader import load_policy
from include.dr.retention import measured_from, plan_deletions

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

EVIDENCE_KIND = "retention"


class PolicyRetentionOperator(BaseOperator):
    """Apply the policy's minimum retention to one asset's backups.

    :param asset: the asset's name in evidence, e.g. ``rds/swl-customers-prod@eu-west-1``.
    :param inventory: registered inventory name, e.g. ``rds_snapshots``.
    :param inventory_args: arguments for that inventory (templated).
    :param plan_only: plan and record only, delete nothing (templated; meant for
        ``{{ params.dry_run }}``; ``BaseOperator.dry_run`` is taken).
    """

    template_fields: Sequence[str] = ("asset", "inventory_args", "plan_only")
    ui_color = "#fdebd0"

    def __init__(
        self,
        *,
        asset: str,
        inventory: str,
        inventory_args: dict[str, Any],
        plan_only: bool | str = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.asset = asset
        self.inventory = inventory
        self.inventory_args = inventory_args
        self.plan_only = plan_only

    def execute(self, context: Any) -> dict[str, int]:
        from botocore.exceptions import ClientError

        policy = load_policy()
        dry_run = as_flag(self.plan_only)
        inventory = open_inventory(self.inventory, **self.inventory_args)
        now = datetime.now(UTC)
        plan = plan_deletions(
            inventory.list_backups(),
            logical_time(context),
            policy.retention.minimum_days,
            policy.retention.keep_verified,
            now=now,
        )
        for decision in plan:
            self.log.info("%s %s: %s", decision.action, decision.backup_id, decision.reason)
        record = {
            "inventory": self.inventory,
            "minimum_days": policy.retention.minimum_days,
            "keep_verified": policy.retention.keep_verified,
            "measured_from": measured_from(logical_time(context), now).isoformat(),
            "dry_run": dry_run,
            "plan": [decision.as_dict() for decision in plan],
        }
        self._record(context, {**record, "status": "planned"})
        deleted: list[str] = []
        deleted_at: dict[str, str] = {}  # the real clock at each deletion, for the audit
        # Until when the lock keeps each deleted backup's bytes (hidden, not yet purgeable).
        earliest_purge: dict[str, str | None] = {}
        already_gone: list[str] = []
        failures: dict[str, BackupError] = {}
        not_deleted: dict[str, dict[str, Any]] = {}
        if not dry_run:
            for decision in plan:
                if decision.action != "delete":
                    continue
                try:
                    locked = inventory.locked_until(decision.backup_id)  # before it is hidden
                    gone = not inventory.delete(decision.backup_id)
                except (BackupError, ClientError) as error:
                    failure = _classified(error, f"deleting {decision.backup_id}")
                    failures[decision.backup_id] = failure
                    not_deleted[decision.backup_id] = _not_deleted(failure)
                    if isinstance(failure, DeletionIncomplete) and failure.deleted:
                        # Some of it went: the early-deletion check judges it by this clock.
                        deleted_at[decision.backup_id] = datetime.now(UTC).isoformat()
                    self.log.error("%s was not (fully) deleted: %s", decision.backup_id, failure)
                    continue
                (already_gone if gone else deleted).append(decision.backup_id)
                if not gone:
                    deleted_at[decision.backup_id] = datetime.now(UTC).isoformat()
                    earliest_purge[decision.backup_id] = locked.isoformat() if locked else None
                    if locked:
                        self.log.info(
                            "%s is hidden; Object Lock keeps its bytes until %s",
                            decision.backup_id,
                            locked.isoformat(),
                        )
        for backup_id in already_gone:
            self.log.warning("%s had already vanished; nothing to delete", backup_id)
        self._record(
            context,
            {
                **record,
                "status": "done",
                "deleted": deleted,
                "deleted_at": deleted_at,
                "earliest_purge": earliest_purge,
                "already_gone": already_gone,
                "not_deleted": not_deleted,
            },
            outcome="fail" if failures else "pass",
        )
        if failures:
            from include.dr.task_boundary import task_boundary

            with task_boundary(f"retention of {self.asset}"):
                _fail(self.asset, failures)
        return {
            "kept": sum(d.action == "keep" for d in plan),
            "deleted": len(deleted),
            "already_gone": len(already_gone),
        }

    def _record(self, context: Any, details: dict[str, Any], outcome: Outcome = "pass") -> None:
        record_evidence(
            kind=EVIDENCE_KIND,
            asset=self.asset,
            dag_id=context["dag"].dag_id,
            run_id=context["run_id"],
            outcome=outcome,
            details=details,
        )


def _classified(error: BackupError | ClientError, doing: str) -> BackupError:
    """One of ours, whether the inventory raised it or let an AWS error through."""
    if isinstance(error, BackupError):
        return error
    return from_client_error(error, doing)


def _not_deleted(failure: BackupError) -> dict[str, Any]:
    """What the evidence says about a backup that was not (fully) deleted."""
    entry: dict[str, Any] = {"reason": str(failure), "transient": isinstance(failure, Transient)}
    if isinstance(failure, DeletionIncomplete):
        entry["objects_deleted"] = failure.deleted
        entry["objects_not_deleted"] = len(failure.failed)
        entry["keys"] = failure.failed[:KEYS_NAMED]
    return entry


def _fail(asset: str, failures: dict[str, BackupError]) -> None:
    """Fail the task once every outcome is recorded: permanently if any failure is."""
    kind = Permanent if any(isinstance(f, Permanent) for f in failures.values()) else Transient
    raise kind(
        f"retention of {asset} did not delete {len(failures)} backup(s) it planned to delete "
        f"({', '.join(failures)}); they are recorded as not deleted, not as deleted: "
        + "; ".join(str(failure) for failure in failures.values())
    )
