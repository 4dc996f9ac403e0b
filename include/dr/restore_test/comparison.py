"""What a restored database can be compared with, and at which moment; said in the report.

A logical dump and its manifest share one moment (:mod:`include.dr.rds.moment`), so the
restored dump must equal its manifest exactly. An RDS snapshot is storage-level: its
moment is when it was asked for, just after the snapshot's manifest was taken. Rows
written between the two cannot be undone, so the comparison is exact only when no row
was written between them; otherwise the row counts may differ by at most the rows
inserted or deleted server-wide meanwhile (measured up to the dump's moment, which is
later than the snapshot's, so a safe bound), and the content checksums cannot be
compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from include.dr.connections import MYSQL_PRODUCTION
from include.dr.rds.moment import rows_changed_between


class Comparison(NamedTuple):
    row_slack: int  # rows by which a table's count may differ from the manifest
    checksums: bool  # whether the content checksums are compared
    compared: str  # what was compared with what, at which moment: for the report


def _moment(manifest: Mapping[str, Any]) -> str:
    binlog = (manifest.get("moment") or {}).get("binlog")
    at = f" at binlog {binlog['file']}:{binlog['position']}" if binlog else ""
    return f"{manifest.get('taken_at')}{at}"


def logical_comparison(manifest: Mapping[str, Any]) -> Comparison:
    """The restored dump against the manifest of the dump's own moment: exact."""
    same = "moment" in manifest  # manifests since the dump was fenced record their moment
    when = (
        f"both at the dump's moment ({_moment(manifest)})"
        if same
        else f"the manifest taken at {manifest.get('taken_at')}, before the dump's own "
        "snapshot (a backup from before dumps were fenced)"
    )
    return Comparison(
        0,
        True,
        f"the restored dump against its manifest, {when}: every table's columns, row count "
        "and content checksum, exactly",
    )


def native_comparison(
    snapshot_manifest: Mapping[str, Any], dump_manifest: Mapping[str, Any] | None
) -> Comparison:
    """The restored instance against the manifest taken just before its snapshot."""
    before = snapshot_manifest.get("counters") or {}
    after = (dump_manifest or {}).get("counters") or {}
    # A replica's counters say nothing of the primary, whose storage the snapshot holds.
    replica = snapshot_manifest.get("read_from") not in (None, MYSQL_PRODUCTION)
    written = rows_changed_between(before, after) if before and after and not replica else None
    when = f"the snapshot's manifest ({_moment(snapshot_manifest)}), just before the snapshot"
    if replica:
        when += f", read from the replica {snapshot_manifest['read_from']}"
    if snapshot_manifest.get("checksums") is False:  # checksums_on: restored_copy
        return Comparison(
            written or 0,
            False,
            f"the restored instance against {when}, which counted rows only (checksums are "
            "computed on a restored copy of the dump): columns exactly, row counts within "
            + (f"{written} rows" if written is not None else "the policy's tolerance"),
        )
    if written == 0:
        return Comparison(
            0,
            True,
            f"the restored instance against {when}: no row was written between them, so "
            "every table's columns, row count and content checksum, exactly",
        )
    if written is None:
        return Comparison(
            0,
            False,
            f"the restored instance against {when}: the writes between them were not "
            "measured, so columns exactly and row counts within the policy's tolerance only",
        )
    return Comparison(
        written,
        False,
        f"the restored instance against {when}: {written} rows were inserted or deleted "
        "server-wide between that manifest and the dump's moment (after the snapshot), so "
        f"columns exactly, row counts within {written} rows, content checksums not compared",
    )
