"""The minimum-retention operator: deletes only what the policy allows, with a reason each.

Custom because no provider operator applies a retention policy: the provider's
delete operators delete what they are told. This one plans with the pure
:func:`include.dr.retention.plan_deletions`, records the plan as evidence, then
carries it out unless ``plan_only`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator

from include.dr.evidence import record as record_evidence
from include.dr.inventory import open_inventory
from include.dr.operators.run_context import as_flag, logical_time
from include.dr.policy.loader import load_policy
from include.dr.retention import measured_from, plan_deletions

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
        already_gone: list[str] = []
        if not dry_run:
            for decision in plan:
                if decision.action == "delete":
                    gone = not inventory.delete(decision.backup_id)
                    (already_gone if gone else deleted).append(decision.backup_id)
                    if not gone:
                        deleted_at[decision.backup_id] = datetime.now(UTC).isoformat()
        for backup_id in already_gone:
            self.log.warning("%s had already vanished; nothing to delete", backup_id)
        self._record(
            context,
            {
                **record,
                "status": "done",
                "deleted": deleted,
                "deleted_at": deleted_at,
                "already_gone": already_gone,
            },
        )
        return {
            "kept": sum(d.action == "keep" for d in plan),
            "deleted": len(deleted),
            "already_gone": len(already_gone),
        }

    def _record(self, context: Any, details: dict[str, Any]) -> None:
        record_evidence(
            kind=EVIDENCE_KIND,
            asset=self.asset,
            dag_id=context["dag"].dag_id,
            run_id=context["run_id"],
            outcome="pass",
            details=details,
        )
