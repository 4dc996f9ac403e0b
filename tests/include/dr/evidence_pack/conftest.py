"""A store in a temporary folder seeded with a period's evidence, and a KMS of our own
(moto in this process, on a free loopback port, with the local stack's digest-signing
correction) holding an asymmetric signing key."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from include.dr.evidence import EvidenceRecord, EvidenceStore
from include.dr.evidence_pack.signing import KEY_SPEC, SIGNING_ALIAS

REGION = "eu-west-1"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@dataclass
class Kms:
    endpoint: str
    client: Any
    key_arn: str

    def new_key(self) -> str:
        """Another signing key (an attacker's, say)."""
        return str(
            self.client.create_key(KeySpec=KEY_SPEC, KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
        )


@pytest.fixture(scope="session")
def kms() -> Iterator[Kms]:
    from moto.server import ThreadedMotoServer

    from include.dr.local_stack.moto_app import sign_digests

    sign_digests()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "kms",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    key = client.create_key(KeySpec=KEY_SPEC, KeyUsage="SIGN_VERIFY")["KeyMetadata"]
    client.create_alias(AliasName=SIGNING_ALIAS, TargetKeyId=key["KeyId"])
    yield Kms(endpoint, client, str(key["Arn"]))
    server.stop()


@pytest.fixture
def store_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "store"
    monkeypatch.setenv("BACKUP_STORE_URL", f"file://{folder}")
    return folder


def at(day: int, hour: int = 3) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def write(
    store: EvidenceStore,
    kind: str,
    asset: str,
    dag_id: str,
    run_id: str,
    outcome: str,
    details: dict[str, Any],
    when: datetime,
) -> None:
    store.write(EvidenceRecord(kind, asset, dag_id, run_id, outcome, details, recorded_at=when))  # type: ignore[arg-type]


def seed_period(folder: Path) -> EvidenceStore:
    """November 2026: a window override (s3_backup, by hand), a window breach
    (rds_backup, late), a failed restore test with its reports, a failed git backup,
    two evaluations (one failing the window clause), and one record outside the period."""
    store = EvidenceStore(folder / "evidence")
    window = {"start": "2026-11-10T01:00:00+00:00", "end": "2026-11-10T05:00:00+00:00"}
    # The gate's record, then the completion's (the run's newest account).
    gate = {
        "window": window,
        "gate": "pass",
        "override": True,
        "triggered_by": "alice",
        "reason": "outside the window; overridden by the trigger form",
    }
    write(store, "window", "s3_backup", "s3_backup", "manual__2026-11-10", "pass", gate, at(10, 14))
    write(
        store,
        "window",
        "s3_backup",
        "s3_backup",
        "manual__2026-11-10",
        "pass",
        {**gate, "breached": False, "completion": "finished inside"},
        at(10, 15),
    )
    write(
        store,
        "window",
        "rds_backup",
        "rds_backup",
        "scheduled__2026-11-12",
        "warn",
        {
            "window": window,
            "gate": "pass",
            "override": False,
            "breached": True,
            "completion": "finished at 06:12, 72 minutes after the window closed",
        },
        at(12, 6),
    )
    write(
        store,
        "window",
        "git_backup",
        "git_backup",
        "scheduled__2026-11-12",
        "pass",
        {"window": window, "gate": "pass", "override": False, "breached": False},
        at(12, 2),
    )
    write(
        store,
        "git",
        "social-workshop/webapp",
        "git_backup",
        "scheduled__2026-11-13",
        "fail",
        {"failed": [{"name": "webapp", "error": "git fsck: missing blob 4b825dc"}]},
        at(13),
    )
    reports = folder / "reports" / "restore-test"
    reports.mkdir(parents=True)
    name = "2026-11-15-0123456789"
    (reports / f"{name}.html").write_text("<html><body>restore test report</body></html>")
    (reports / f"{name}.json").write_text(json.dumps({"verdict": "fail"}))
    write(
        store,
        "restore_test",
        "all",
        "restore_test",
        "manual__2026-11-15",
        "fail",
        {
            "verdict": "fail",
            "checks": [
                {"asset": "rds/swl-customers-prod", "check": "row_counts", "success": False},
                {"asset": "s3/swl-system-data", "check": "sample", "success": True},
            ],
            "report": {
                "html": f"file://{reports}/{name}.html",
                "json": f"file://{reports}/{name}.json",
                "dr_copy": "s3://swl-customers-db-dr/.backup/restore-tests/x/",
            },
        },
        at(15),
    )
    for day, window_status in ((14, "pass"), (16, "fail")):
        clauses = [
            {
                "clause": "freshness",
                "title": "Every asset backed up in the last 24 hours",
                "status": "pass",
                "text": "all fresh",
                "evidence": [],
            },
            {
                "clause": "window",
                "title": "The last 7 runs inside the backup window",
                "status": window_status,
                "text": "rds_backup: 6 of 7 inside, 1 outside"
                if window_status == "fail"
                else "7 of 7 inside",
                "evidence": [],
            },
        ]
        write(
            store,
            "compliance",
            "policy",
            "compliance_evaluation",
            f"scheduled__2026-11-{day}",
            window_status,
            {"status": window_status, "clauses": clauses},
            at(day, 6),
        )
    write(
        store,
        "window",
        "s3_backup",
        "s3_backup",
        "scheduled__2026-12-02",
        "pass",
        {"window": window, "override": True, "reason": "outside the period"},
        datetime(2026, 12, 2, 3, tzinfo=UTC),
    )
    return store
