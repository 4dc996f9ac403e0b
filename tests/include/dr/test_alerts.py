"""Alerts go through the notifier the policy configures: SNS by default, any other Airflow
notifier by configuration; a class that is not a notifier is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from include.dr.alerts import send
from include.dr.policy.loader import load_policy


def test_a_configured_notifier_replaces_sns(
    use_policy: Callable[..., dict[str, Any]], tmp_path: Path
) -> None:
    sink = tmp_path / "alerts.jsonl"

    def change(policy: dict[str, Any]) -> None:
        policy["alerts"]["notifier"] = {
            "class_path": "tests.fixtures.file_notifier.FileNotifier",
            "arguments": {"path": str(sink)},
            "message_argument": "text",
            "subject_argument": "title",
        }

    use_policy(change)
    send(load_policy(), "Backup policy not met", "tamper: snapshot vanished")
    assert json.loads(sink.read_text()) == {
        "title": "Backup policy not met",
        "text": "tamper: snapshot vanished",
    }


def test_a_class_that_is_not_a_notifier_is_refused(
    use_policy: Callable[..., dict[str, Any]],
) -> None:
    use_policy(lambda p: p["alerts"].update(notifier={"class_path": "pathlib.Path"}))
    with pytest.raises(TypeError, match="is not a notifier"):
        send(load_policy(), "subject", "message")
