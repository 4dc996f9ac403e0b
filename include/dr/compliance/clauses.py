"""Each clause of the policy judged pass, warn or fail from facts, with the evidence behind it.

Pure functions of the facts and the evaluation time, so every boundary (24 h, 26 h,
365 days, a DST night) is tested without a clock or a server.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from include.dr.policy.regions import ResidencyVerdict

Status = Literal["pass", "warn", "fail"]
# A named check behind a clause: (name, held, detail); held is None when the check could
# not be made here (n/a): it is named, and neither passes nor fails the clause.
CheckFact = tuple[str, bool | None, str]
WARN_AFTER = timedelta(hours=24)
FAIL_AFTER = timedelta(hours=26)
RESTORE_TEST_WARNING = timedelta(days=30)
SLA_REVIEW = timedelta(days=365)


@dataclass(frozen=True)
class EvidenceRef:
    """One evidence record behind a verdict: enough to find it and its DAG run."""

    kind: str
    asset: str
    dag_id: str
    run_id: str
    recorded_at: str


@dataclass(frozen=True)
class Verdict:
    clause: str
    title: str
    status: Status
    text: str
    evidence: tuple[EvidenceRef, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def worst(statuses: Iterable[Status]) -> Status:
    found = set(statuses)
    return "fail" if "fail" in found else "warn" if "warn" in found else "pass"


def freshness(
    last_good: Mapping[str, tuple[datetime, EvidenceRef] | None], now: datetime
) -> Verdict:
    """Each asset's last good backup: a warning from 24 hours, a failure from 26."""
    lines: list[str] = []
    statuses: list[Status] = []
    refs: list[EvidenceRef] = []
    for asset, found in sorted(last_good.items()):
        if found is None:
            statuses.append("fail")
            lines.append(f"{asset}: no good backup recorded")
            continue
        at, ref = found
        age = _utc(now) - _utc(at)  # real hours: aware times in one zone subtract as wall clock
        status: Status = "fail" if age >= FAIL_AFTER else "warn" if age >= WARN_AFTER else "pass"
        statuses.append(status)
        refs.append(ref)
        lines.append(f"{asset}: {age.total_seconds() / 3600:.1f} h old ({status})")
    return Verdict(
        "freshness",
        "Every asset backed up in the last 24 hours",
        worst(statuses) if statuses else "fail",
        "; ".join(lines) or "no assets",
        tuple(refs),
    )


def window(runs: Mapping[str, list[tuple[bool, bool, EvidenceRef]]]) -> Verdict:
    """The last 7 runs of each backup DAG started and finished inside the window.

    ``runs`` holds (breached, overridden) per run, newest last. A run started by hand
    with the recorded override is excused and named; a scheduled run that breached fails.
    """
    lines: list[str] = []
    statuses: list[Status] = []
    refs: list[EvidenceRef] = []
    for dag_id, found in sorted(runs.items()):
        last = found[-7:]
        breached = [ref for b, overridden, ref in last if b and not overridden]
        excused = [ref for b, overridden, ref in last if b and overridden]
        refs += [ref for _, _, ref in last]
        statuses.append("fail" if breached else "pass")
        lines.append(
            f"{dag_id}: {len(last) - len(breached) - len(excused)} of {len(last)} inside"
            + (f", {len(breached)} outside" if breached else "")
            + (f", {len(excused)} run by hand with the recorded override" if excused else "")
        )
    return Verdict(
        "window",
        "The last 7 runs inside the backup window",
        worst(statuses) if statuses else "warn",
        "; ".join(lines) or "no runs recorded yet",
        tuple(refs),
    )


def coverage(good_days: Mapping[str, set[date]], today: date, minimum_days: int) -> Verdict:
    """Each of the last ``minimum_days`` days, since an asset's first backup, has one."""
    lines: list[str] = []
    statuses: list[Status] = []
    for asset, days in sorted(good_days.items()):
        if not days:
            statuses.append("fail")
            lines.append(f"{asset}: no backups")
            continue
        start = max(min(days), today - timedelta(days=minimum_days - 1))
        wanted = {start + timedelta(days=n) for n in range((today - start).days)}
        missing = sorted(wanted - days)
        statuses.append("fail" if missing else "pass")
        lines.append(
            f"{asset}: "
            + (f"missing {', '.join(d.isoformat() for d in missing)}" if missing else "covered")
        )
    return Verdict(
        "retention_coverage",
        f"Backups cover the last {minimum_days} days",
        worst(statuses) if statuses else "fail",
        "; ".join(lines),
    )


def early_deletions(
    deletions: list[tuple[str, datetime, datetime, EvidenceRef]], minimum_days: int
) -> Verdict:
    """Nothing younger than the minimum was deleted: (backup, completed, deleted_at, ref)."""
    early = [
        (backup, ref)
        for backup, completed, deleted_at, ref in deletions
        if deleted_at - completed < timedelta(days=minimum_days)
    ]
    return Verdict(
        "retention_minimum",
        f"Nothing younger than {minimum_days} days deleted",
        "fail" if early else "pass",
        f"deleted early: {', '.join(b for b, _ in early)}"
        if early
        else f"{len(deletions)} deletions, all older than the minimum",
        tuple(ref for _, ref in early) or tuple(ref for *_, ref in deletions[-5:]),
    )


def checks_held(clause: str, title: str, checks: list[CheckFact]) -> Verdict:
    """A clause made of named checks (name, held, detail): fails if any did not hold, or if
    there was nothing to check. A check not made (held None) is named as n/a; a clause
    whose every check was n/a is a warning, never a pass."""
    failed = [f"{name}: {detail}" for name, ok, detail in checks if ok is False]
    unchecked = [f"{name}: {detail}" for name, ok, detail in checks if ok is None]
    made = len(checks) - len(unchecked)
    status: Status = "fail" if failed or not checks else "pass" if made else "warn"
    text = (
        "; ".join(failed)
        if failed
        else f"{made} checks hold"
        if made
        else "nothing could be checked here"
        if checks
        else "nothing recorded to check"
    )
    if unchecked and not failed:
        text += f"; n/a: {'; '.join(unchecked)}"
    return Verdict(clause, title, status, text)


def region(checks: list[CheckFact], residency: ResidencyVerdict) -> Verdict:
    """The DR copies sit in the DR region (named checks), and the residency verdict holds:
    same country, or a residency exception approved for the region pair as configured."""
    held = checks_held("region", "DR copies in the DR region; residency", checks)
    if residency.holds:
        return Verdict(held.clause, held.title, held.status, f"{held.text}. {residency.statement}")
    failed = [held.text] if held.status == "fail" and checks else []
    text = "; ".join([*failed, f"residency: {residency.problem}"])
    return Verdict(held.clause, held.title, "fail", f"{text}. {residency.statement}")


def restore_test(
    last_pass: tuple[datetime, EvidenceRef] | None, now: datetime, interval_days: int
) -> Verdict:
    """The last passed restore test within the interval; a warning 30 days before it lapses."""
    title = f"Restore test passed within {interval_days} days"
    if last_pass is None:
        return Verdict("restore_test", title, "fail", "no restore test has passed yet")
    at, ref = last_pass
    due = at + timedelta(days=interval_days)
    status: Status = (
        "fail" if now >= due else "warn" if now >= due - RESTORE_TEST_WARNING else "pass"
    )
    return Verdict(
        "restore_test",
        title,
        status,
        f"last passed {at.date().isoformat()}; next due by {due.date().isoformat()}",
        (ref,),
    )


def archived_at_source(latest: Mapping[str, tuple[int, EvidenceRef]]) -> Verdict:
    """Objects the newest backup of a bucket could not copy because they sit in an archive
    tier at the source (Glacier, Deep Archive, an Intelligent-Tiering archive tier): S3
    refuses to copy them until someone restores them there. A warning naming the buckets,
    never a silent pass and never a failed day: every other object was backed up."""
    title = "Every object copied (none archived at the source)"
    held = {asset: found for asset, found in latest.items() if found[0]}
    if not held:
        return Verdict("archived_at_source", title, "pass", "no object was archived")
    text = "; ".join(f"{asset}: {count} object(s)" for asset, (count, _) in sorted(held.items()))
    return Verdict(
        "archived_at_source",
        title,
        "warn",
        f"{text}. Restore them at the source (S3 RestoreObject) or move them to an instant "
        "tier so that the next backup copies them; the run manifests name each one.",
        tuple(ref for _, ref in held.values()),
    )


def sla_register(services: list[tuple[str, date]], today: date) -> Verdict:
    """Each cloud service's SLA reviewed within the year; a warning in its last 30 days."""
    lines: list[str] = []
    statuses: list[Status] = []
    for name, reviewed in services:
        due = reviewed + SLA_REVIEW
        status: Status = (
            "fail" if today >= due else "warn" if today >= due - timedelta(days=30) else "pass"
        )
        statuses.append(status)
        lines.append(f"{name}: reviewed {reviewed.isoformat()}, due {due.isoformat()} ({status})")
    return Verdict(
        "sla_register",
        "Cloud services' SLAs reviewed within a year",
        worst(statuses) if statuses else "pass",
        "; ".join(lines) or "no services relied on",
    )


def tamper(
    recorded: list[tuple[str, EvidenceRef]], present: set[str], deleted_by_retention: set[str]
) -> Verdict:
    """Every backup the evidence records is still there, or our retention deleted it."""
    vanished = [
        (b, ref) for b, ref in recorded if b not in present and b not in deleted_by_retention
    ]
    return Verdict(
        "tamper",
        "No backup vanished outside the retention policy",
        "fail" if vanished else "pass",
        f"vanished: {', '.join(b for b, _ in vanished)}"
        if vanished
        else f"{len(recorded)} recorded backups present or deleted by retention",
        tuple(ref for _, ref in vanished),
    )
