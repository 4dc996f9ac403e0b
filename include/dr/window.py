"""The backup window as instants in time, and the decisions the window operators make.

The policy states the window in local wall-clock time. Turning it into instants
needs rules for the days when the clocks change (summer time, or a zone changing
its standard offset):

- **A start that does not exist** (the clocks jump forward over it) is moved
  forward by the jump: in London, 01:30 on the spring-forward day is 02:30 BST.
  This is also when Airflow's cron schedule fires that day.
- **A time that occurs twice** (the clocks fall back over it): the window opens
  at the *first* occurrence of its start and closes at the *last* occurrence of
  its end.
- **A window is never empty, and never shorter in elapsed time than written**,
  where the day allows it: when the clocks jump forward inside a window, or over
  its start, the window closes as much later on the clock as the jump took away
  (London 01:00-02:00 on the spring-forward day is 02:00-03:00 BST; 01:00-05:00 is
  02:00-06:00 BST). The one limit is the next day's window: a window always closes
  by the time the next one opens, so a window longer than a 23-hour day closes
  when the next day's opens. No backup is called late because of a clock change.

A run belongs to the window that opens on the local calendar day of its logical
time. Only a moment before that window opens, while the previous day's window is
still open (the small hours of an overnight window such as 23:00-03:00), belongs
to the window that opened the day before. Everything here is pure: the clock is
an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from include.dr.errors import Permanent
from include.dr.policy.model import BackupWindow


class WindowClosed(Permanent):
    """The run's window closed before it started; only the override runs it now."""


GateAction = Literal["pass", "wait", "fail"]


def resolve_wall_time(day: date, clock: time, zone: ZoneInfo, *, last: bool) -> datetime:
    """The UTC instant of ``clock`` on ``day`` in ``zone``, by the module's DST rules."""
    naive = datetime.combine(day, clock)
    first = naive.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return first.astimezone(UTC)  # in a gap: fold=0 reads it with the earlier offset
    chosen = naive.replace(tzinfo=zone, fold=1) if last else first
    return chosen.astimezone(UTC)


@dataclass(frozen=True)
class WindowOccurrence:
    """One day's window: the local day it opens on, and when it opens and closes (UTC)."""

    day: date
    opens_at: datetime
    closes_at: datetime
    timezone: str

    def local(self, moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M %Z")

    def describe(self) -> str:
        return f"{self.local(self.opens_at)} to {self.local(self.closes_at)}"

    def as_dict(self) -> dict[str, str]:
        return {
            "day": self.day.isoformat(),
            "opens_at": self.opens_at.isoformat(),
            "closes_at": self.closes_at.isoformat(),
            "timezone": self.timezone,
        }


def opening(window: BackupWindow, day: date) -> datetime:
    """When the window of local ``day`` opens (UTC): its start, moved forward by a jump."""
    return resolve_wall_time(day, window.start, window.zone, last=False)


def occurrence(window: BackupWindow, day: date) -> WindowOccurrence:
    """The window that opens on local ``day`` (the rules are in the module docstring)."""
    opens_at = opening(window, day)
    close_day = day + timedelta(days=1) if window.overnight else day
    written_end = resolve_wall_time(close_day, window.end, window.zone, last=True)
    # Never shorter than written (a jump forward inside the window is given back at the
    # end), but closed by the time the next day's window opens.
    next_opens_at = opening(window, day + timedelta(days=1))
    closes_at = min(max(written_end, opens_at + window.length), next_opens_at)
    return WindowOccurrence(
        day=day, opens_at=opens_at, closes_at=closes_at, timezone=window.timezone
    )


def run_window(window: BackupWindow, logical_time: datetime) -> WindowOccurrence:
    """The window a run with this logical time belongs to (see the module docstring)."""
    owner = occurrence(window, logical_time.astimezone(window.zone).date())
    # Before its day's window opens, a moment belongs to an earlier window still open
    # then. That is the day before's, or, when the clocks skipped the end of a day
    # (Greenland goes from 23:00 to midnight), the one before that.
    for _ in range(2):
        if logical_time >= owner.opens_at:
            break
        previous = occurrence(window, owner.day - timedelta(days=1))
        if logical_time >= previous.closes_at:
            break
        owner = previous
    return owner


@dataclass(frozen=True)
class GateDecision:
    """What the gate does with a run, and the sentence that says why."""

    action: GateAction
    window: WindowOccurrence
    reason: str
    override: bool


def decide_gate(
    window: BackupWindow, logical_time: datetime, now: datetime, *, override: bool = False
) -> GateDecision:
    """Pass inside the window, wait before it, fail after it, unless explicitly overridden."""
    occ = run_window(window, logical_time)
    if override:
        return GateDecision(
            "pass", occ, f"window check overridden on request (window {occ.describe()})", True
        )
    if now < occ.opens_at:
        return GateDecision(
            "wait", occ, f"the backup window opens at {occ.local(occ.opens_at)}; waiting", False
        )
    if now < occ.closes_at:
        return GateDecision("pass", occ, f"inside the backup window {occ.describe()}", False)
    return GateDecision(
        "fail",
        occ,
        f"the backup window {occ.describe()} closed before this run started (now "
        f"{occ.local(now)}), so nothing was backed up. To back up outside the window, "
        "trigger the DAG with override_window set to true; the override is recorded "
        "in the run's evidence.",
        False,
    )


@dataclass(frozen=True)
class CompletionVerdict:
    """Whether work finished inside its window; a late backup is kept but flagged."""

    window: WindowOccurrence
    finished_at: datetime
    breached: bool

    @property
    def late_by(self) -> timedelta:
        return max(self.finished_at - self.window.closes_at, timedelta(0))

    def describe(self) -> str:
        if not self.breached:
            return f"finished at {self.window.local(self.finished_at)}, inside the window"
        minutes = int(self.late_by.total_seconds() // 60)
        return (
            f"finished at {self.window.local(self.finished_at)}, {minutes} min after the "
            f"window closed at {self.window.local(self.window.closes_at)}; the backup is kept"
        )


def judge_completion(
    window: BackupWindow, logical_time: datetime, finished_at: datetime
) -> CompletionVerdict:
    occ = run_window(window, logical_time)
    return CompletionVerdict(occ, finished_at, finished_at > occ.closes_at)
