"""Which backups the policy allows to be deleted: a pure planner with a reason for each.

The planner never deletes:

- a backup that this product did not make (no owner tag);
- a backup that is not finished (creating, copying, failed part-way...);
- a backup younger than the policy's minimum retention;
- one of the newest ``keep_verified`` verified backups of the asset, whatever their age.

When an asset has fewer verified backups than ``keep_verified``, its newest
finished backups make up the number, so an asset whose verification is broken
never loses its last copies. Ages are measured against the *earlier* of the run's
logical time and the real clock: a backfill or late re-run cannot delete more than
the on-time run would have, and a run dated in the future (Airflow accepts any
logical date on a manual trigger) cannot age a backup past the minimum early.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from include.dr.errors import Permanent

Action = Literal["keep", "delete"]


class RetentionMisconfigured(Permanent, ValueError):
    """Retention asked to keep nothing: refused rather than deleting everything."""


@dataclass(frozen=True)
class Backup:
    """One backup in an inventory, as the retention rules see it.

    ``completed_at`` is when the backup finished, or the latest time it can have
    finished; the policy counts its week "from the date of completion".
    """

    backup_id: str
    completed_at: datetime
    finished: bool
    verified: bool
    ours: bool
    state: str = ""


@dataclass(frozen=True)
class Decision:
    backup_id: str
    completed_at: datetime
    action: Action
    reason: str

    def as_dict(self) -> dict[str, Any]:
        body = asdict(self)
        body["completed_at"] = self.completed_at.isoformat()
        return body


def plan_deletions(
    backups: Iterable[Backup],
    logical_time: datetime,
    minimum_days: int,
    keep_verified: int,
    *,
    now: datetime,
) -> list[Decision]:
    """Decide keep or delete for every backup, newest first, each with its reason.

    ``now`` is the real clock; ages count to ``measured_from(logical_time, now)``.
    """
    if minimum_days < 1 or keep_verified < 1:
        raise RetentionMisconfigured("minimum_days and keep_verified must both be at least 1")
    ordered = sorted(backups, key=lambda b: (b.completed_at, b.backup_id), reverse=True)
    finished_ours = [b for b in ordered if b.ours and b.finished]
    verified = [b for b in finished_ours if b.verified][:keep_verified]
    protected = {
        b.backup_id: f"one of the newest {keep_verified} verified backups, kept whatever their age"
        for b in verified
    }
    spare = [b for b in finished_ours if b.backup_id not in protected]
    for backup in spare[: keep_verified - len(verified)]:
        protected[backup.backup_id] = (
            f"only {len(verified)} verified backup(s) exist, so the newest finished ones are "
            f"kept to make up {keep_verified}"
        )
    cutoff = measured_from(logical_time, now) - timedelta(days=minimum_days)
    return [_decide(backup, cutoff, minimum_days, keep_verified, protected) for backup in ordered]


def measured_from(logical_time: datetime, now: datetime) -> datetime:
    """The moment ages are measured to: the logical time, but never later than the clock."""
    return min(logical_time, now)


def _decide(
    backup: Backup,
    cutoff: datetime,
    minimum_days: int,
    keep_verified: int,
    protected: dict[str, str],
) -> Decision:
    def keep(reason: str) -> Decision:
        return Decision(backup.backup_id, backup.completed_at, "keep", reason)

    if not backup.ours:
        return keep("not made by this product (no owner tag); never touched")
    if not backup.finished:
        return keep(f"not finished (state {backup.state or 'unknown'}); never touched")
    if backup.completed_at >= cutoff:
        return keep(f"younger than the policy minimum of {minimum_days} days")
    if backup.backup_id in protected:
        return keep(protected[backup.backup_id])
    return Decision(
        backup.backup_id,
        backup.completed_at,
        "delete",
        f"older than {minimum_days} days and not among the newest {keep_verified} verified",
    )
