"""What every restore DAG shares: refusing a bad request by field before anything changes,
and recording who restored what, from which backup, to where, with what outcome."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

from include.dr.errors import Permanent
from include.dr.evidence import Outcome
from include.dr.evidence import record as record_evidence
from include.dr.run_info import RunInfo

EVIDENCE_KIND = "restore"
# Where a restore may write besides a production source (which it must confirm): the
# restore operator's IAM role (infra/roles-dr.json) allows writes only to these names.
RESTORE_BUCKET_PREFIX = "restore-"
RESTORED_INSTANCE_PREFIX = "restored-"


class RestoreRefused(Permanent):
    """The request is unsafe or cannot be met; the message names the field and the fix."""

    def __init__(self, field: str, problem: str, fix: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}. {fix} Nothing was changed.")


class RestoreIncomplete(Permanent):
    """The restore ran but its result does not match the backup (retrying will not help)."""


class BackupDamaged(Permanent):
    """The backup the restore needs is no longer whole (an object version it names was
    deleted permanently): nothing was restored, and retrying cannot bring it back."""


def refuse(field: str, problem: str, fix: str) -> NoReturn:
    raise RestoreRefused(field, problem, fix)


def one_of(field: str, value: Any, choices: Iterable[str], what: str) -> str:
    """``value`` as text if it is one of ``choices``; refused by field, listing them."""
    chosen, allowed = str(value or ""), sorted(choices)
    if chosen not in allowed:
        refuse(field, f"{chosen!r} is not {what}", f"Choose one of: {', '.join(allowed)}.")
    return chosen


def parse_instant(field: str, value: Any, now: datetime) -> datetime:
    """An ISO date and time from a form (UTC when it has no zone), not in the future."""
    text = "" if value is None else str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        refuse(
            field, f"{text[:40]!r} is not a date and time", "Use e.g. 2026-11-26T18:00:00+00:00."
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the form's picker sends UTC without a zone
    if moment > now:
        refuse(field, f"{moment.isoformat()} is in the future", "Choose a time in the past.")
    return moment


def record_restore(
    run: RunInfo | Mapping[str, Any], asset: str, outcome: Outcome, details: Mapping[str, Any]
) -> None:
    """One evidence record per restore step that decides something (refusal, plan, result).

    ``run`` is the task's :class:`RunInfo` (Airflow's context is still accepted while the
    restore DAGs move their adapters to it)."""
    if not isinstance(run, RunInfo):
        run = RunInfo.from_context(run)
    record_evidence(
        kind=EVIDENCE_KIND,
        asset=asset,
        dag_id=run.dag_id,
        run_id=run.run_id,
        outcome=outcome,
        details={"triggered_by": run.triggered_by, **details},
    )


def on_restore_success(context: Any) -> None:
    """DAG-level success callback: one message through the policy's notifier."""
    _notify(context, "finished", "see its evidence for what was restored")


def on_restore_failure(context: Any) -> None:
    """DAG-level failure callback: one message through the policy's notifier."""
    _notify(context, "failed", "the failed task's log says why; a refusal names the field")


def _notify(context: Any, outcome: str, hint: str) -> None:
    from include.dr.alerts import send
    from include.dr.policy.loader import load_policy

    dag_run = context["dag_run"]
    send(
        load_policy(),
        f"Restore {outcome}: {dag_run.dag_id}",
        f"{dag_run.dag_id} run {dag_run.run_id} {outcome}; {hint}.",
    )


RESTORE_CALLBACKS: dict[str, Any] = {
    "on_success_callback": on_restore_success,
    "on_failure_callback": on_restore_failure,
}
