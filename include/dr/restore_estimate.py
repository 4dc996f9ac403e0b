"""Roughly how much a restore will move, shown on the restore forms before anyone runs one.

A trigger form is fixed when its DAG file is parsed, so it cannot ask AWS at trigger
time. Instead the daily compliance evaluation, which already reads every evidence
record, writes a small summary of each asset's latest passed backup (bytes, objects,
tables and rows, refs; the backup's day) to the store, and the forms read it when they
are parsed. The summary is derived, so it is the one file in the store that is
replaced rather than written once: a whole-object put on S3, a rename on ``file://``
(readers see the old summary or the new one, never half of one), and any evaluation can
rebuild it from the evidence. Reading it is cheap and fail-soft: a missing or unreadable
summary gives "no estimate yet", never a parse error. On ``file://`` it is one local
read; on S3 it is one small GET through the store's connection. Figures are rounded to
two significant figures, so a form's text changes about once a day, with the backup's
date, not with every byte.

The restore's dry run states the exact amount (:mod:`include.dr.s3.restore`,
:mod:`include.dr.rds.restore`, :mod:`include.dr.git.restore`).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from include.dr.progress import UNITS, binary_units

if TYPE_CHECKING:
    from airflow.sdk import ObjectStoragePath

    from include.dr.evidence import EvidenceRecord, EvidenceStore

SUMMARY_NAME = "summaries/restore-estimate.json"
KINDS = {"s3": "s3_backup", "rds": "rds_backup", "git": "git_backup"}
LISTED = 20  # assets named on a form; the rest are added up in one line
Kind = Literal["s3", "rds", "git"]

log = logging.getLogger(__name__)


def summarise(records: Mapping[str, Iterable[EvidenceRecord]], now: datetime) -> dict[str, Any]:
    """Each asset's latest passed backup, by kind (``s3``, ``rds``, ``git``), from the
    evidence records of ``s3_backup``, ``rds_backup`` and ``git_backup``."""
    summary: dict[str, Any] = {"written_at": now.isoformat(), "s3": {}, "rds": {}, "git": {}}
    for kind, evidence_kind in KINDS.items():
        newest: dict[str, EvidenceRecord] = {}
        for record in records.get(evidence_kind, ()):
            if record.outcome != "pass":
                continue
            held = newest.get(record.asset)
            if held is None or record.recorded_at >= held.recorded_at:
                newest[record.asset] = record
        for record in newest.values():
            found = _sizes(kind, record.details)
            if found is not None:
                name, sizes = found
                summary[kind][name] = sizes
    return summary


def _sizes(kind: str, details: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    day = details.get("day")
    if kind == "s3":
        return str(details["source"]), {
            "objects": details.get("listed"),
            "bytes": details.get("bytes_listed"),  # absent from backups made before it was
            "day": day,
        }
    if kind == "rds":
        dump = details.get("dump") or {}
        manifest = dump.get("manifest") or details.get("manifest") or {}
        copy = details.get("copy") or details.get("snapshot") or {}
        return str(details["instance"]), {
            "dump_bytes": dump.get("bytes_compressed"),
            "sql_bytes": dump.get("bytes_raw"),
            "tables": manifest.get("tables"),
            "rows": manifest.get("rows"),
            "allocated_gb": copy.get("allocated_gb"),
            "day": day,
        }
    bundle = details.get("bundle")
    if not bundle:  # an empty repository: nothing to restore
        return None
    refs = details.get("refs") or {}
    return str(details["repository"]), {
        "bytes": bundle.get("size"),
        "refs": len([ref for ref in refs if ref != "HEAD"]),
        "day": day,
    }


def summary_path(root: ObjectStoragePath) -> ObjectStoragePath:
    return root / SUMMARY_NAME


def write_summary(root: ObjectStoragePath, summary: Mapping[str, Any]) -> None:
    """Replace the summary whole (see the module's doc for why it may be replaced)."""
    from include.dr.store import replace_whole

    replace_whole(
        summary_path(root), json.dumps(summary, indent=1, sort_keys=True, default=str).encode()
    )


def refresh(store: EvidenceStore, root: ObjectStoragePath, now: datetime) -> None:
    """Rebuild the summary from the evidence; a failure is logged, never raised (the forms
    then keep the previous estimate, or say there is none)."""
    try:
        records = {kind: store.read(kind) for kind in KINDS.values()}
        write_summary(root, summarise(records, now))
    except Exception as exc:  # noqa: BLE001 - an estimate must never fail the evaluation
        log.warning("the restore forms' size estimate was not refreshed: %s", exc)


def read_summary(url: str | None = None) -> dict[str, Any] | None:
    """The summary in the store in force, or ``None`` if it is missing or unreadable.

    ``file://``: one local read, no Airflow import. ``s3://``: one GET of a small object."""
    from include.dr.store import store_url

    url = url or store_url()
    try:
        parts = urlsplit(url)
        if parts.scheme in ("file", ""):
            data = (Path(parts.path) / SUMMARY_NAME).read_bytes()
        else:
            from include.dr.store import store_root

            path = summary_path(store_root())
            data = path.fs.cat_file(path.path)
        found = json.loads(data)
        return found if isinstance(found, dict) else None
    except Exception as exc:  # noqa: BLE001 - a form is never broken by its estimate
        log.debug("no restore estimate: %s", exc)
        return None


def about(count: float | None) -> str:
    """A count rounded to two significant figures: ``48,000``."""
    if count is None:
        return "?"
    value = round(count)
    if value < 100:
        return f"{value:,}"
    scale = 10 ** (int(math.log10(value)) - 1)
    return f"{round(value / scale) * scale:,}"


def about_bytes(size: float | None) -> str:
    """A size rounded to two significant figures, in binary units: ``1.2 GiB``."""
    if size is None:
        return "?"
    value, unit = binary_units(size)
    shown = f"{value:.1f}" if unit and value < 10 else about(value)
    return f"{shown} {UNITS[unit]}"


def _day(value: Any) -> str:
    try:
        found = date.fromisoformat(str(value))
    except ValueError:
        return "an unknown day"
    return f"{found.day} {found:%b %Y}"


def _line(kind: Kind, name: str, sizes: Mapping[str, Any]) -> str:
    when = f"backup of {_day(sizes.get('day'))}"
    if kind == "s3":
        size = (
            f"about {about_bytes(sizes['bytes'])}, "
            if sizes.get("bytes") is not None
            else "size not recorded, "
        )
        return f"- `{name}`: {size}{about(sizes.get('objects'))} objects ({when})"
    if kind == "rds":
        dump = (
            f"dump about {about_bytes(sizes.get('dump_bytes'))} "
            f"({about_bytes(sizes.get('sql_bytes'))} of SQL), "
            f"{about(sizes.get('tables'))} tables, {about(sizes.get('rows'))} rows"
        )
        storage = sizes.get("allocated_gb")
        instance = f"; a new instance gets {storage} GiB of storage" if storage else ""
        return f"- `{name}`: {dump}{instance} ({when})"
    return (
        f"- `{name}`: bundle about {about_bytes(sizes.get('bytes'))}, "
        f"{about(sizes.get('refs'))} branches and tags ({when})"
    )


HEADINGS: dict[Kind, str] = {
    "s3": "**Roughly what a restore of the whole bucket moves** (a prefix moves less):",
    "rds": "**Roughly what a restore moves**, from the latest backup:",
    "git": "**Roughly what a restore pushes**, from the latest bundle:",
}


def describe(kind: Kind, summary: Mapping[str, Any] | None, names: Iterable[str] = ()) -> str:
    """The estimate as Markdown for a form: one line per asset (``names`` first, at most
    :data:`LISTED`), or "no estimate yet"."""
    assets: Mapping[str, Any] = (summary or {}).get(kind) or {}
    if not assets:
        return (
            "No size estimate yet: it appears once a backup has run and the daily "
            "compliance evaluation has summarised it. The dry run reports the exact amount."
        )
    wanted = [n for n in names if n in assets]
    ordered = wanted + sorted(n for n in assets if n not in wanted)
    lines = [_line(kind, name, assets[name]) for name in ordered[:LISTED]]
    rest = ordered[LISTED:]
    if rest:
        total = sum(int(assets[n].get("bytes") or assets[n].get("dump_bytes") or 0) for n in rest)
        lines.append(f"- and {len(rest)} more, about {about_bytes(total)} together")
    return "\n".join(
        [HEADINGS[kind], "", *lines, "", "The dry run (on by default) reports the exact amount."]
    )


def form_note(kind: Kind, names: Iterable[str] = ()) -> str:
    """:func:`describe` of the summary in the store in force (what a form shows)."""
    return describe(kind, read_summary(), names)
