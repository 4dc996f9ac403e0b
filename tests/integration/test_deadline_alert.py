"""The backup DAGs' window Deadline Alert fires while a run is still going, in a running Airflow.

dag.test() does not evaluate deadlines, so this runs the product's own ``git_backup``
under the tests' ``airflow standalone`` (scheduler, triggerer, API server) and watches
SNS through an SQS queue subscribed to the alerts topic. The deadline is the one
``include/dr/dag_defaults.py`` gives every daily backup DAG: the run's logical date plus
the policy window's length. The run is dated so that its window closes a few seconds
after it starts, long before the backup can finish.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from include.dr.local_stack.airflow_standalone import Standalone
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy
from tests.alerts_queue import AlertsQueue

SUBJECT = "Backup still running at the end of its window"
CLOSES_IN = timedelta(seconds=8)


def wait_for(what: str, check: Any, timeout: float, poll: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(poll)
    raise AssertionError(f"{what} within {timeout:.0f}s")


def test_window_deadline_alert_is_sent_while_a_backup_run_outlasts_its_window(
    running_airflow: Standalone, settings: LocalSettings
) -> None:
    window = load_policy().schedule.window
    queue = AlertsQueue(settings)
    closes = datetime.now(UTC) + CLOSES_IN
    run_id = running_airflow.trigger(
        "git_backup", {"override_window": True}, logical_date=closes - window.length
    )
    alerts: list[dict[str, Any]] = []

    def window_alert() -> datetime | None:
        """When SNS took the run's alert (its envelope's timestamp), once it has arrived."""
        alerts.extend(queue.received())
        for alert in alerts:
            if alert["Subject"] == SUBJECT and run_id in alert["Message"]:
                return datetime.fromisoformat(alert["Timestamp"])
        return None

    alerted_at = wait_for(
        f"no window alert for {run_id} (alerts seen: {[a['Subject'] for a in alerts]})",
        window_alert,
        timeout=180,
    )
    assert alerted_at >= closes - timedelta(seconds=1)  # not before the window's end

    # SNS took the alert before the run ended, so it was sent while the run was going.
    def finished() -> dict[str, Any] | None:
        run = running_airflow.call(
            "GET", f"/api/v2/dags/git_backup/dagRuns/{run_id}", running_airflow.token()
        )
        return run if run["state"] in {"success", "failed"} else None

    run = wait_for(f"git_backup run {run_id} did not finish", finished, timeout=600, poll=3)
    assert run["state"] == "success"  # late, but the backup is kept
    assert alerted_at < datetime.fromisoformat(run["end_date"])
