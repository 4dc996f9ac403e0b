"""Where an S3 backup keeps its run manifests in the DR bucket, named once.

Every Airflow run of the backup gets its own folder,
``.backup/manifests/<source>/<day>/<run>/``: one manifest per partition, then the
run's summary, ``run.json``, written last. The backup writes here, and the restore,
the retention inventory and the tamper reconciliation read here.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

MANIFESTS = ".backup/manifests/"
SUMMARY = "run.json"


def manifests_of(source: str) -> str:
    """Every run folder of one source bucket lies under this prefix."""
    return f"{MANIFESTS}{source}/"


def manifest_prefix(source: str, day: str, run: str = "") -> str:
    """A run's manifest folder (``run`` empty: the day's folder, the layout before runs had
    folders of their own, still read by restores)."""
    return f"{manifests_of(source)}{day}/" + (f"{run}/" if run else "")


def summary_key(source: str, day: str, run: str = "") -> str:
    return f"{manifest_prefix(source, day, run)}{SUMMARY}"


def run_key(logical_time: datetime, run_id: str) -> str:
    """The run's folder name: its logical time (so a day's runs sort by it) and a digest of
    the Airflow run id. A retry or cleared task of one run gets the same name; another
    run on the same day, another."""
    moment = logical_time.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{moment}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"
