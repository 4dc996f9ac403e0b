"""The window's Deadline Alert fires while a run is still going, in a running Airflow.

dag.test() does not evaluate deadlines, so this starts ``airflow standalone``
(scheduler, triggerer, API server) over the test DAGs and watches SNS through an
SQS queue subscribed to the alerts topic.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from include.dr.local_stack.airflow_standalone import Standalone
from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy


def subscribe_queue(settings: LocalSettings) -> tuple[Any, str]:
    topic = load_policy().alerts.sns_topic_arn
    region = topic.split(":")[3]
    sns, sqs = aws_client(settings, "sns", region), aws_client(settings, "sqs", region)
    queue = sqs.create_queue(QueueName=f"deadline-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return sqs, queue


def test_deadline_alert_is_sent_while_the_run_is_still_running(
    running_airflow: Standalone, settings: LocalSettings
) -> None:
    sqs, queue = subscribe_queue(settings)
    run_id = running_airflow.trigger("deadline_probe")
    alerts: list[dict[str, Any]] = []
    state = "queued"
    for _ in range(60):
        time.sleep(1)
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        alerts += [json.loads(message["Body"]) for message in messages]
        state = running_airflow.run_state("deadline_probe", run_id)
        if alerts:
            break
    assert [alert["Subject"] for alert in alerts] == ["deadline probe"]
    assert run_id in alerts[0]["Message"]
    assert state == "running"  # the alert came before the run ended
