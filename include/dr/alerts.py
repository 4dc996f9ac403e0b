"""Alerts: one message per event through the notifier the policy configures.

Today that is the Amazon provider's SNS notifier, publishing to the policy's
topic through ``aws_default`` (SNS on the moto server on the local stack).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from include.dr.connections import AWS_PRODUCTION
from include.dr.errors import Permanent
from include.dr.policy.model import BackupPolicy

ALERTS_CONN_ID = AWS_PRODUCTION  # the SNS topic lives in the production account


class NotANotifier(Permanent, TypeError):
    """The policy names a class for alerts that is not an Airflow notifier."""


def notifier(policy: BackupPolicy, subject: str, message: str) -> Any:
    """A ready-to-call notifier for one alert: the policy's own, or SNS."""
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

    spec = policy.alerts.notifier
    if spec is not None:
        import importlib

        from airflow.sdk import BaseNotifier

        module, _, name = spec.class_path.rpartition(".")
        chosen = getattr(importlib.import_module(module), name)
        if not (isinstance(chosen, type) and issubclass(chosen, BaseNotifier)):
            raise NotANotifier(f"alerts.notifier.class_path {spec.class_path} is not a notifier")
        arguments = {**spec.arguments, spec.message_argument: message}
        if spec.subject_argument:
            arguments[spec.subject_argument] = subject
        return chosen(**arguments)
    return SnsNotifier(
        aws_conn_id=ALERTS_CONN_ID,
        region_name=policy.alerts.region,
        target_arn=policy.alerts.sns_topic_arn,
        subject=subject[:100],
        message=message,
    )


def send(policy: BackupPolicy, subject: str, message: str) -> None:
    """Publish one alert now (from inside a task)."""
    notifier(policy, subject, message).notify({})


async def publish_window_alert(context: Any = None, **sns: Any) -> None:
    """The window Deadline Alert's callback, run in the triggerer: the provider's SNS
    notifier, imported only here, so that parsing a backup DAG never loads boto3."""
    from airflow.providers.amazon.aws.notifications.sns import SnsNotifier

    await SnsNotifier(**sns, context=context)


def window_deadline(policy: BackupPolicy) -> Any:
    """A Deadline Alert that fires while a daily run is still going when its window closes.

    Measured from the run's logical date (the window's opening for scheduled runs)
    plus the window's nominal length; on a clock-change day that is an hour off
    the wall-clock close, and the completion check still judges exactly.
    """
    from airflow.sdk import (  # type: ignore[attr-defined]  # lazy exports
        AsyncCallback,
        DeadlineAlert,
        DeadlineReference,
    )

    window = policy.schedule.window
    length: timedelta = window.length
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_LOGICAL_DATE,
        interval=length,
        callback=AsyncCallback(
            publish_window_alert,
            kwargs={
                "aws_conn_id": ALERTS_CONN_ID,
                "region_name": policy.alerts.region,
                "target_arn": policy.alerts.sns_topic_arn,
                "subject": "Backup still running at the end of its window",
                # A deadline callback's context carries the run as the REST API's JSON.
                "message": (
                    "{{ dag_run.dag_id }} run {{ dag_run.dag_run_id }} is still running at the end "
                    f"of the backup window ({window.start:%H:%M}-{window.end:%H:%M} "
                    f"{window.timezone}). The backup will be kept when it finishes; the run "
                    "will be marked as having breached the window."
                ),
            },
        ),
        name="backup window end",
    )


def on_run_failure(context: Any) -> None:
    """DAG-level failure callback: record the failed run and send one alert for it."""
    from include.dr.evidence import record as record_evidence
    from include.dr.policy.loader import load_policy

    dag_run = context["dag_run"]
    dag_id, run_id = dag_run.dag_id, dag_run.run_id
    reason = str(context.get("reason") or "a task failed")
    record_evidence(
        kind="run_failure",
        asset=dag_id,
        dag_id=dag_id,
        run_id=run_id,
        outcome="fail",
        details={"reason": reason},
    )
    send(
        load_policy(),
        f"Backup run failed: {dag_id}",
        f"{dag_id} run {run_id} failed ({reason}); its failed tasks are red in the Airflow UI.",
    )
