"""The window's Deadline Alert fires while a run is still going, in a running Airflow.

dag.test() does not evaluate deadlines, so this starts ``airflow standalone``
(scheduler, triggerer, API server) over the test DAGs and watches SNS through an
SQS queue subscribed to the alerts topic.
"""

from __future__ import annotations

import time
from typing import Any

from include.dr.local_stack.airflow_standalone import Standalone
from include.dr.local_stack.settings import LocalSettings
from tests.alerts_queue import AlertsQueue


def test_deadline_alert_is_sent_while_the_run_is_still_running(
    running_airflow: Standalone, settings: LocalSettings
) -> None:
    queue = AlertsQueue(settings)
    run_id = running_airflow.trigger("deadline_probe")
    alerts: list[dict[str, Any]] = []
    state = "queued"
    for _ in range(60):
        time.sleep(1)
        alerts += queue.received()
        state = running_airflow.run_state("deadline_probe", run_id)
        if alerts:
            break
    assert [alert["Subject"] for alert in alerts] == ["deadline probe"]
    assert run_id in alerts[0]["Message"]
    assert state == "running"  # the alert came before the run ended
