"""What domain code needs to know about the run it works for, built once per task.

Domain functions take a :class:`RunInfo`, never Airflow's ``**context``: it is
typed, small, and built in tests without a scheduler.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class RunInfo:
    """The run a task belongs to: ids, its logical time, who started it and which try."""

    dag_id: str
    run_id: str
    logical_time: datetime
    triggered_by: str | None = None
    try_number: int = 1
    max_tries: int = 0

    @property
    def tries_remain(self) -> bool:
        """Whether Airflow will retry this task if it raises now."""
        return self.try_number <= self.max_tries

    @classmethod
    def from_context(cls, context: Mapping[str, Any]) -> RunInfo:
        """Built from Airflow's task context (the only place that reads it)."""
        from include.dr.operators.run_context import logical_time, triggered_by

        ti = context.get("ti")
        return cls(
            dag_id=context["dag"].dag_id,
            run_id=context["run_id"],
            logical_time=logical_time(context),
            triggered_by=triggered_by(context),
            try_number=int(getattr(ti, "try_number", 1) or 1),
            max_tries=int(getattr(ti, "max_tries", 0) or 0),
        )
