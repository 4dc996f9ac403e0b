"""Operators that hold backup DAGs to the policy's daily window.

No provider operator knows the policy's window, so these are custom. The gate
waits for the window by deferring to a ``DateTimeTrigger``: while it waits the
task is ``deferred`` and holds no worker slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import BaseOperator

from include.dr.evidence import Outcome, evidence_store
from include.dr.evidence import record as record_evidence
from include.dr.future_runs import RunDatedAhead, future_run_refusal
from include.dr.operators.run_context import as_flag, logical_time, triggered_by
from include.dr.policy.loader import load_policy
from include.dr.task_boundary import task_boundary
from include.dr.window import WindowClosed, decide_gate, judge_completion

EVIDENCE_KIND = "window"


class BackupWindowGateOperator(BaseOperator):
    """Pass inside the backup window, wait (deferred) before it, fail after it.

    :param override_window: run outside the window anyway (templated; meant for
        ``{{ params.override_window }}``). The override is recorded as evidence.
    """

    template_fields: Sequence[str] = ("override_window",)
    ui_color = "#d6eaf8"

    def __init__(self, *, override_window: bool | str = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.override_window = override_window

    def execute(self, context: Any) -> dict[str, Any]:
        with task_boundary("the window gate"):
            return self._decide(context)

    def execute_complete(self, context: Any, event: Any = None) -> dict[str, Any]:
        with task_boundary("the window gate"):
            return self._decide(context)

    def _decide(self, context: Any) -> dict[str, Any]:
        from airflow.providers.standard.triggers.temporal import DateTimeTrigger

        policy = load_policy()
        now = datetime.now(UTC)
        override = as_flag(self.override_window)
        refusal = future_run_refusal(logical_time(context), now)
        if refusal is not None:  # the timetable refuses these at trigger time; never run one
            self._record(
                context,
                "fail",
                {
                    "gate": "fail",
                    "gate_checked_at": now.isoformat(),
                    "override": override,
                    "reason": refusal,
                    "triggered_by": triggered_by(context),
                },
            )
            raise RunDatedAhead(refusal)
        decision = decide_gate(
            policy.schedule.window, logical_time(context), now, override=override
        )
        self.log.info("Backup window gate: %s", decision.reason)
        if decision.action == "wait":
            self.defer(
                trigger=DateTimeTrigger(moment=decision.window.opens_at),
                method_name="execute_complete",
            )
        details = {
            "window": decision.window.as_dict(),
            "gate": decision.action,
            "gate_checked_at": now.isoformat(),
            "override": override,
            "triggered_by": triggered_by(context),
            "reason": decision.reason,
        }
        self._record(context, "fail" if decision.action == "fail" else "pass", details)
        if decision.action == "fail":
            raise WindowClosed(decision.reason)
        return {"gate": decision.action, "override": override, **decision.window.as_dict()}

    @staticmethod
    def _record(context: Any, outcome: Outcome, details: dict[str, Any]) -> None:
        dag_id = context["dag"].dag_id
        record_evidence(EVIDENCE_KIND, dag_id, dag_id, context["run_id"], outcome, details)


class BackupWindowCompletionOperator(BaseOperator):
    """Record when the backup work finished against the window; alert if it was late.

    A late backup is never thrown away: the task succeeds, the run's window
    evidence is marked ``breached``, and one alert goes to the policy's notifier.
    """

    ui_color = "#d6eaf8"

    def execute(self, context: Any) -> dict[str, Any]:
        from include.dr import alerts

        policy = load_policy()
        dag_id, run_id = context["dag"].dag_id, context["run_id"]
        verdict = judge_completion(policy.schedule.window, logical_time(context), datetime.now(UTC))
        gate = evidence_store().get(EVIDENCE_KIND, dag_id, dag_id, run_id)
        details = {
            **(dict(gate.details) if gate else {"window": verdict.window.as_dict()}),
            "finished_at": verdict.finished_at.isoformat(),
            "breached": verdict.breached,
            "completion": verdict.describe(),
        }
        outcome: Outcome = "warn" if verdict.breached else "pass"
        record_evidence(EVIDENCE_KIND, dag_id, dag_id, run_id, outcome, details)
        if verdict.breached:
            self.log.warning("Backup window breached: %s", verdict.describe())
            alerts.send(
                policy,
                f"Backup window breached: {dag_id}",
                f"{dag_id} run {run_id} {verdict.describe()}.",
            )
        else:
            self.log.info("Backup window kept: %s", verdict.describe())
        return {"breached": verdict.breached, "finished_at": verdict.finished_at.isoformat()}
