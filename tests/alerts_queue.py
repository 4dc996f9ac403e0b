"""An SQS queue subscribed to the policy's alerts topic, so a test can read what was sent."""

from __future__ import annotations

import json
import uuid
from typing import Any

from include.dr.local_stack.seed_aws import aws_client
from include.dr.local_stack.settings import LocalSettings
from include.dr.policy.loader import load_policy


class AlertsQueue:
    def __init__(self, settings: LocalSettings) -> None:
        policy = load_policy()
        region = policy.alerts.region
        sns = aws_client(settings, "sns", region)
        self.sqs = aws_client(settings, "sqs", region)
        topic = sns.create_topic(Name=policy.alerts.topic_name)["TopicArn"]
        self.url = self.sqs.create_queue(QueueName=f"alerts-{uuid.uuid4().hex[:8]}")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    def received(self) -> list[dict[str, Any]]:
        """The alerts waiting in the queue (SNS envelopes with Subject and Message)."""
        found = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10)
        return [json.loads(message["Body"]) for message in found.get("Messages", [])]
