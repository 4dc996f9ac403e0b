"""Fixtures shared by the integration tests, and a report of the task instances a failed
test left failed (a bare ``run.state == "success"`` assertion does not say which task broke)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.git_runs import upstream
from tests.integration.s3_runs import fresh_buckets

__all__ = ["fresh_buckets", "upstream"]

UNSUCCESSFUL = ("failed", "upstream_failed", "up_for_retry")


def failed_task_instances(since: datetime) -> list[str]:
    """One line per task instance that ended unsuccessfully since ``since``."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        found = (
            session.query(TaskInstance)
            .filter(TaskInstance.state.in_(UNSUCCESSFUL), TaskInstance.end_date >= since)
            .order_by(TaskInstance.end_date)
            .all()
        )
        return [
            f"{ti.dag_id}.{ti.task_id}[{ti.map_index}] try {ti.try_number}: {ti.state} "
            f"({ti.run_id})"
            for ti in found
        ]


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: its section prints last
def pytest_runtest_call(item: pytest.Item) -> Iterator[Any]:
    started = datetime.now(UTC)
    try:
        return (yield)
    except BaseException:
        try:
            lines = failed_task_instances(started)
        except Exception as error:  # the report must never hide the test's own failure
            lines = [f"(could not read the task instances: {error})"]
        item.add_report_section("call", "failed task instances", "\n".join(lines) or "none")
        raise
