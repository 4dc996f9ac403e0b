"""What the operators read from a task's context: the run's time, its id and who started it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def logical_time(context: Mapping[str, Any]) -> datetime:
    """The run's logical date, or when it was triggered if it has none (manual runs)."""
    moment = context.get("logical_date") or context["dag_run"].run_after
    return datetime.fromisoformat(moment.isoformat())


def triggered_by(context: Mapping[str, Any]) -> str | None:
    """The user who triggered the run, where Airflow records one."""
    return getattr(context["dag_run"], "triggering_user_name", None)


def as_flag(value: Any) -> bool:
    """A templated boolean: only a real True or the text 'true' counts as set."""
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")
