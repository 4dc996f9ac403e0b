"""The compliance page's HTML pieces: escaped text, times in the policy's zone with the
UTC instant on hover, runs linked by words, tables, and figures with their text
equivalent. Every value is escaped here; SVG comes only from our own renderer."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from include.dr.compliance.figures import Figure


def e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def instant(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Clock:
    """Times as people at the policy's zone read them; the UTC instant on hover."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def time(self, value: datetime | str | None) -> str:
        if not value:
            return "never"
        moment = instant(value)
        local = moment.astimezone(self.zone)
        utc = moment.astimezone(UTC)
        shown = f"{local.day} {local:%b %Y, %H:%M %Z}"
        return (
            f'<time datetime="{e(utc.isoformat())}" title="{utc:%Y-%m-%d %H:%M:%S} UTC">'
            f"{e(shown)}</time>"
        )

    def day(self, value: datetime | str) -> str:
        """A run's day in words: "29 Nov"."""
        local = instant(value).astimezone(self.zone)
        return f"{local.day} {local:%b}"

    def run_words(self, run_id: str, at: datetime | str) -> str:
        """ "scheduled run of 29 Nov", "manual run of 29 Nov": never a raw timestamp."""
        how = run_id.split("__", 1)[0] if "__" in run_id else ""
        how = how if how in {"scheduled", "manual", "backfill", "asset_triggered"} else ""
        return f"{how.replace('_', ' ')} run of {self.day(at)}".strip()


def link(run_link: str, run: Mapping[str, str] | None, text: str, at: str | None = None) -> str:
    if not run:
        return ""
    title = f' title="{e(at)}"' if at else ""
    return f'<a target="_top" href="{e(run_link.format(**run))}"{title}>{e(text)}</a>'


def status(value: str) -> str:
    """A status word in its colour (from the theme's stylesheet), as a word for everyone."""
    known = value if value in {"pass", "warn", "fail"} else "unknown"
    return f'<span class="status {known}">{e(value.upper())}</span>'


def table(
    name: str, headers: Sequence[str], rows: Sequence[Sequence[str]], caption: str = ""
) -> str:
    """A table of already-escaped cells."""
    cap = f"<caption>{e(caption)}</caption>" if caption else ""
    head = "".join(f'<th scope="col">{e(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{e(name)}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def cell(value: Any, clock: Clock) -> str:
    if isinstance(value, datetime):
        return clock.time(value)
    if isinstance(value, date):
        return e(value.isoformat())
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return e(value)


def figure(item: Figure, clock: Clock) -> str:
    """The chart in both themes (the stylesheet shows the one matching Airflow's) as one
    image named by its summary, and its data in a table under a disclosure."""
    charts = "".join(
        f'<div class="chart theme-{e(theme)}">{svg}</div>' for theme, svg in item.svgs.items()
    )
    rows = [[cell(v, clock) for v in row] for row in item.rows]
    data = (
        table(f"{item.key}-data", item.headers, rows, caption=item.title)
        if rows
        else "<p>No data yet.</p>"
    )
    return (
        f'<figure class="figure" id="{e(item.key)}">'
        f'<div class="charts" role="img" aria-label="{e(item.summary)}">{charts}</div>'
        f"<figcaption>{e(item.summary)}</figcaption>"
        f"<details><summary>Data: {e(item.title)}</summary>{data}</details></figure>"
    )
