"""A realistic 90-day evidence history for the compliance page's tests, written straight
into an evidence store: nightly runs inside the window, one breach, one run by hand with
the override, one missed day, daily evaluations, restore tests in two years and one
evidence pack. Cheaper than running the DAGs 90 times, and deterministic."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from include.dr.evidence import EvidenceRecord, EvidenceStore
from include.dr.policy.model import BackupPolicy
from include.dr.window import occurrence

CLAUSES = [
    ("freshness", "Every asset backed up in the last 24 hours"),
    ("window", "The last 7 runs inside the backup window"),
    ("retention_coverage", "Backups cover the last 7 days"),
    ("archived_at_source", "Every object copied (none archived at the source)"),
    ("retention_minimum", "Nothing younger than 7 days deleted"),
    ("dr_lifecycle", "DR buckets keep old versions at least 7 days"),
    ("object_lock", "DR buckets and the store lock every version 7+ days (compliance mode)"),
    ("dr_key_guard", "Production can neither disable nor delete the DR key"),
    ("encryption", "Backups encrypted with the expected keys; TLS only"),
    ("region", "DR copies in the DR region; residency"),
    ("cloudtrail", "A multi-region CloudTrail trail is logging"),
    ("restore_test", "Restore test passed within 365 days"),
    ("sla_register", "Cloud services' SLAs reviewed within a year"),
    ("tamper", "No backup vanished outside the retention policy"),
]
KEY = "arn:aws:kms:eu-west-1:210987654321:key/74cb34dd-2bad-42fd-a732-89f42b06d8ec"
PACK = "evidence-pack-2026-10-01-to-2026-10-31-0123456789.zip"


def seed(store: EvidenceStore, policy: BackupPolicy, today: date, days: int = 90) -> list[Any]:
    """Write the history (days before ``today``, never ``today`` itself); return where each
    record went, so a test sharing its store with others can take them away again."""
    rng = random.Random(21)
    window = policy.schedule.window
    written: list[Any] = []
    github = policy.assets.github
    assets: dict[str, list[str]] = {
        "rds_backup": [f"rds/{a.instance}" for a in policy.assets.rds],
        "s3_backup": [f"s3/{a.source}" for a in policy.assets.s3],
        "git_backup": [f"git/{github.organisation}/{r}" for r in github.repositories or ()]
        if github
        else [],
    }
    first = today - timedelta(days=days)
    breach_day, override_day, missed_day = (today - timedelta(days=n) for n in (12, 5, 20))

    def write(record: EvidenceRecord) -> None:
        written.append(store.write(record))

    for n in range(days):
        day = first + timedelta(days=n)
        occ = occurrence(window, day)
        for dag_id, names in assets.items():
            override = day == override_day and dag_id == "s3_backup"
            start = (occ.opens_at.replace(hour=14) if override else occ.opens_at) + timedelta(
                minutes=rng.randint(0, 4), seconds=rng.randint(0, 59)
            )
            minutes = (
                300 + rng.randint(0, 60)
                if day == breach_day and dag_id == "rds_backup"
                else rng.randint(3, 50)
            )
            run_id = (
                f"manual__{start.isoformat()}"
                if override
                else f"scheduled__{occ.opens_at.isoformat()}"
            )
            ends = []
            for name in names:
                if day == missed_day and name.startswith("s3/"):
                    continue
                ended = start + timedelta(
                    minutes=minutes * (1.0 if minutes >= 300 else rng.uniform(0.6, 1.0))
                )
                ends.append(ended)
                write(_backup(dag_id, name, run_id, day, ended, rng))
            finished = max(ends, default=start) + timedelta(seconds=20)
            write(
                EvidenceRecord(
                    "window",
                    dag_id,
                    dag_id,
                    run_id,
                    "warn" if finished > occ.closes_at and not override else "pass",
                    {
                        "window": occ.as_dict(),
                        "gate": "pass",
                        "gate_checked_at": start.isoformat(),
                        "override": override,
                        "finished_at": finished.isoformat(),
                        "breached": finished > occ.closes_at,
                    },
                    recorded_at=finished,
                )
            )
        evaluated = occ.closes_at + timedelta(minutes=30)
        statuses = {c: "pass" for c, _ in CLAUSES}
        if day == breach_day + timedelta(days=1):
            statuses["window"] = "fail"
        if missed_day < day <= missed_day + timedelta(days=2):
            statuses["freshness"] = "fail"
            statuses["retention_coverage"] = "fail"
        if n % 17 == 3:
            statuses["archived_at_source"] = "warn"
        worst = (
            "fail"
            if "fail" in statuses.values()
            else "warn"
            if "warn" in statuses.values()
            else "pass"
        )
        write(
            EvidenceRecord(
                "compliance",
                "policy",
                "compliance_evaluation",
                f"scheduled__{evaluated.isoformat()}",
                worst,  # type: ignore[arg-type]
                {
                    "status": worst,
                    "clauses": [
                        {
                            "clause": c,
                            "title": t,
                            "status": statuses[c],
                            "text": f"{c}: {statuses[c]}",
                            "evidence": [],
                        }
                        for c, t in CLAUSES
                    ],
                },
                recorded_at=evaluated,
            )
        )
    for year, factor in ((today.year - 1, 1.0), (today.year, 0.8)):
        at = datetime(year, 1, 15, 3, tzinfo=UTC)
        if at.date() >= today:
            at = datetime.combine(today - timedelta(days=30), datetime.min.time(), UTC)
        checks = [
            {
                "asset": name,
                "check": check,
                "success": True,
                "details": {"seconds": round(secs * factor, 2)},
            }
            for name, check, secs in [
                *((a, "logical", 140.0) for a in assets["rds_backup"]),
                *((a, "native", 610.0) for a in assets["rds_backup"]),
                *((a, "sample", 35.0) for a in assets["s3_backup"]),
                *((a, "bundle", 12.0) for a in assets["git_backup"]),
            ]
        ]
        write(
            EvidenceRecord(
                "restore_test",
                "all",
                "restore_test",
                f"scheduled__{at.isoformat()}",
                "pass",
                {
                    "checks": checks,
                    "report": {"html": f"/x/{at.date().isoformat()}-0123456789.html"},
                },
                recorded_at=at,
            )
        )
    built = datetime.combine(today - timedelta(days=2), datetime.min.time(), UTC) + timedelta(
        hours=9
    )
    write(
        EvidenceRecord(
            "evidence_pack",
            "all",
            "compliance_evidence_pack",
            f"manual__{built.isoformat()}",
            "pass",
            {
                "pack": {
                    "name": PACK,
                    "period": {"start": "2026-10-01", "end": "2026-10-31"},
                    "sha256": "ab" * 32,
                    "size": 48_213,
                }
            },
            recorded_at=built,
        )
    )
    return written


def _backup(
    kind: str, asset: str, run_id: str, day: date, ended: datetime, rng: random.Random
) -> EvidenceRecord:
    name = asset.split("/", 1)[1]
    details: dict[str, Any] = {"day": day.isoformat()}
    if kind == "rds_backup":
        snapshot = f"{name}-{day.isoformat()}"
        details |= {
            "instance": name,
            "dr_bucket": "swl-customers-db-dr",
            "copy": {
                "id": snapshot,
                "arn": f"arn:aws:rds:eu-west-1:210987654321:snapshot:{snapshot}",
                "kms_key_id": KEY,
            },
            "dump": {
                "bytes_compressed": 120_000 + rng.randint(0, 9_000),
                "key": f"rds/{name}/{day}/customers.sql.gz",
                "reused": False,
                "kms_key_arn": KEY,
            },
            "dump_key": f"rds/{name}/{day}/customers.sql.gz",
        }
    elif kind == "s3_backup":
        run = f"{day:%Y%m%d}T010000Z-0123abcd"
        details |= {
            "source": name,
            "dr_bucket": f"{name}-dr",
            "copied": rng.randint(5, 60),
            "bytes_copied": rng.randint(40_000, 900_000),
            "summary_key": f".backup/manifests/{name}/{day}/{run}/run.json",
            "manifests": [],
            "guardrails": [{"name": "dr_bucket_encryption", "found": KEY}],
        }
    else:
        details |= {
            "bundle_made": True,
            "bundle": {
                "size": 11_000 + rng.randint(0, 3_000),
                "key_fingerprint": "84f48402dc71765d",
            },
            "dr_copy": {"bucket": "swl-git-dr", "key": f"{asset}/{day}/bundle.enc"},
            "verdict": "bundled",
        }
    return EvidenceRecord(kind, asset, kind, run_id, "pass", details, recorded_at=ended)
