"""The compliance page's charts as Vega-Lite specs, one per chart and theme.

Data comes shaped by :mod:`~include.dr.compliance.charts`; the specs only draw it. Each
takes the theme's :class:`Palette`, so the status colours keep their contrast on Airflow's
light and dark backgrounds; :mod:`~include.dr.compliance.svg` renders them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from include.dr.compliance.charts import (
    AgePoint,
    GridCell,
    RecoveryRow,
    TimelineRow,
    VolumeRow,
    WindowBand,
    first_day,
)

Spec = dict[str, Any]
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
DAY_LABEL = "utcFormat(datum.value, '%d %b')"
# A font vl-convert measures the same as the browser draws it here (Debian ships it); on
# other machines the labels keep room to spare (``padding``), so a wider font is not cut.
FONT = "'DejaVu Sans', Verdana, sans-serif"
WINDOW_LABELS = {
    "inside": "inside the window",
    "override": "outside, overridden",
    "breach": "outside: breach",
}
SHAPES = {"inside": "circle", "override": "triangle-up", "breach": "cross"}
STATUS_LABELS = {"pass": "pass", "warn": "warn", "fail": "fail"}
KIND_LABELS = {"rds_backup": "RDS dump", "s3_backup": "S3 objects", "git_backup": "git bundle"}


@dataclass(frozen=True)
class Palette:
    """Colours for one theme: status colours, the window band, and the series."""

    name: str
    passed: str
    warned: str
    failed: str
    band: str
    band_opacity: float
    series: tuple[str, ...]


LIGHT = Palette(
    "light",
    "#1e8449",
    "#b9770e",
    "#c0392b",
    "#2563eb",
    0.14,
    ("#2563eb", "#c2410c", "#15803d", "#7c3aed", "#be185d", "#0e7490", "#a16207"),
)
DARK = Palette(
    "dark",
    "#4ade80",
    "#fbbf24",
    "#f87171",
    "#60a5fa",
    0.22,
    ("#60a5fa", "#fb923c", "#4ade80", "#c4b5fd", "#f9a8d4", "#67e8f9", "#fde047"),
)
PALETTES = (LIGHT, DARK)


def _base(title: str, palette: Palette) -> Spec:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": title, "anchor": "start", "fontSize": 13},
        "background": "transparent",
        "padding": {"left": 24, "right": 16, "top": 4, "bottom": 4},
        "config": {
            "aria": False,  # the figure carries the text equivalent; marks stay silent
            "font": FONT,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "grid": True},
            "legend": {
                "labelFontSize": 11,
                "titleFontSize": 11,
                "orient": "bottom",
                "columns": 4,
                "labelLimit": 260,
            },
            "range": {"category": list(palette.series)},
        },
    }


def _day_ms(day: str) -> int:
    return (date.fromisoformat(day) - date(1970, 1, 1)).days * DAY_MS


def timeline(
    asset: str,
    window_bands: Sequence[WindowBand],
    rows: Sequence[TimelineRow],
    today: date,
    days: int,
    palette: Palette,
) -> Spec:
    """Each backup as a line from its start to its end, on the local clock (y) of its day
    (x), over the window band; the end point's colour and shape say inside, override or
    breach."""
    hours = [b["opens"] for b in window_bands] + [b["closes"] for b in window_bands]
    hours += [r["start"] for r in rows] + [r["end"] for r in rows]
    low, high = max(min(hours, default=0) - 1, -24), min(max(hours, default=24) + 1, 48)
    band_values = [
        {"x": _day_ms(b["day"]), "y": b["opens"] * HOUR_MS, "y2": b["closes"] * HOUR_MS}
        for b in window_bands
    ]
    if band_values:  # the last day's band runs to the end of that day
        band_values.append(band_values[-1] | {"x": band_values[-1]["x"] + DAY_MS})
    run_values = [
        {
            "x": _day_ms(r["day"]) + DAY_MS // 2,
            "y": r["start"] * HOUR_MS,
            "y2": r["end"] * HOUR_MS,
            "status": WINDOW_LABELS[r["status"]],
        }
        for r in rows
    ]
    start = first_day(today, days)
    x = {
        "field": "x",
        "type": "temporal",
        "title": None,
        "scale": {
            "type": "utc",
            "domain": [_day_ms(start.isoformat()), _day_ms(today.isoformat()) + DAY_MS],
        },
        "axis": {"labelExpr": DAY_LABEL, "labelOverlap": True, "grid": False},
    }
    y = {
        "field": "y",
        "type": "temporal",
        "title": "local time",
        "scale": {"type": "utc", "domain": [low * HOUR_MS, high * HOUR_MS], "reverse": True},
        "axis": {"labelExpr": "utcFormat(datum.value, '%H:%M')"},
    }
    statuses = list(WINDOW_LABELS.values())
    colours = [palette.passed, palette.warned, palette.failed]
    colour = {
        "field": "status",
        "type": "nominal",
        "title": None,
        "scale": {"domain": statuses, "range": colours},
    }
    return _base(f"{asset}: last {days} days", palette) | {
        "width": 480,
        "height": 200,
        "layer": [
            {
                "data": {"values": band_values},
                "mark": {
                    "type": "area",
                    "interpolate": "step-after",
                    "fill": palette.band,
                    "fillOpacity": palette.band_opacity,
                },
                "encoding": {"x": x, "y": y, "y2": {"field": "y2"}},
            },
            {
                "data": {"values": run_values},
                "mark": {"type": "rule", "strokeWidth": 2},
                "encoding": {"x": x, "y": y, "y2": {"field": "y2"}, "color": colour},
            },
            {
                "data": {"values": run_values},
                "mark": {"type": "point", "filled": True, "size": 40, "opacity": 1},
                "encoding": {
                    "x": x,
                    "y": y | {"field": "y2"},
                    "color": colour,
                    "shape": {
                        "field": "status",
                        "type": "nominal",
                        "title": None,
                        "scale": {"domain": statuses, "range": list(SHAPES.values())},
                    },
                },
            },
        ],
    }


def volume(rows: Sequence[VolumeRow], today: date, days: int, palette: Palette) -> Spec:
    """Bytes and objects written to the DR side per day, stacked by kind of backup."""
    values = [
        r | {"x": _day_ms(r["day"]), "label": KIND_LABELS.get(r["kind"], r["kind"])} for r in rows
    ]
    start = first_day(today, days)
    x = {
        "field": "x",
        "type": "temporal",
        "title": None,
        "timeUnit": "utcyearmonthdate",
        "scale": {"domain": [_day_ms(start.isoformat()), _day_ms(today.isoformat()) + DAY_MS]},
        "axis": {"labelExpr": DAY_LABEL, "labelOverlap": True},
    }
    kinds = list(KIND_LABELS.values())
    colour = {"field": "label", "type": "nominal", "title": None, "scale": {"domain": kinds}}

    def panel(field: str, title: str) -> Spec:
        return {
            "width": 880,
            "height": 130,
            "mark": {"type": "bar"},
            "encoding": {
                "x": x,
                "y": {
                    "aggregate": "sum",
                    "field": field,
                    "type": "quantitative",
                    "title": title,
                    "axis": {"format": "~s"},
                },
                "color": colour,
            },
        }

    return _base(f"Written to the DR side per day, last {days} days", palette) | {
        "data": {"values": values},
        "vconcat": [panel("bytes", "bytes"), panel("objects", "objects")],
    }


def ages(
    points: Sequence[AgePoint], warn_hours: float, fail_hours: float, palette: Palette
) -> Spec:
    """Each asset's newest-backup age over time, against the freshness clause's lines."""
    values = [p | {"order": n} for n, p in enumerate(points)]
    rules = [
        {"y": warn_hours, "label": f"warn at {warn_hours:g} h", "colour": palette.warned, "dy": 10},
        {"y": fail_hours, "label": f"fail at {fail_hours:g} h", "colour": palette.failed, "dy": -6},
    ]
    return _base("Age of the newest good backup", palette) | {
        "width": 880,
        "height": 220,
        "layer": [
            {
                "data": {"values": values},
                "mark": {"type": "line", "strokeWidth": 1.5, "interpolate": "linear"},
                "encoding": {
                    "x": {
                        "field": "at",
                        "type": "temporal",
                        "title": None,
                        "scale": {"type": "utc"},
                        "axis": {"labelExpr": DAY_LABEL, "labelOverlap": True},
                    },
                    "y": {"field": "age_hours", "type": "quantitative", "title": "hours"},
                    "color": {"field": "asset", "type": "nominal", "title": None},
                    "order": {"field": "order", "type": "quantitative"},
                },
            },
            {
                "data": {"values": rules},
                "mark": {"type": "rule", "strokeDash": [6, 4], "strokeWidth": 1.5},
                "encoding": {
                    "y": {"field": "y", "type": "quantitative"},
                    "color": {"field": "colour", "type": "nominal", "scale": None},
                },
            },
            *(
                {
                    "data": {"values": [rule]},
                    "mark": {
                        "type": "text",
                        "align": "left",
                        "dx": 4,
                        "dy": rule["dy"],
                        "x": 0,
                        "fontWeight": "bold",
                        "color": rule["colour"],
                    },
                    "encoding": {
                        "y": {"field": "y", "type": "quantitative"},
                        "text": {"field": "label"},
                    },
                }
                for rule in rules
            ),
        ],
    }


def status_grid(cells: Sequence[GridCell], clauses: Sequence[str], palette: Palette) -> Spec:
    """Days across, clauses down, each cell the day's last verdict."""
    days = sorted({c["day"] for c in cells})
    return _base("Clause status by day", palette) | {
        "data": {"values": [c | {"x": c["day"][5:]} for c in cells]},
        "width": max(24 * len(days), 120),
        "height": 18 * max(len(clauses), 1),
        "mark": {"type": "rect", "stroke": "transparent", "strokeWidth": 2},
        "encoding": {
            "x": {
                "field": "x",
                "type": "ordinal",
                "title": None,
                "sort": [d[5:] for d in days],
                "axis": {"labelAngle": -60, "labelOverlap": True},
            },
            "y": {
                "field": "clause",
                "type": "nominal",
                "title": None,
                "sort": list(clauses),
                "axis": {"labelLimit": 300},
            },
            "color": {
                "field": "status",
                "type": "nominal",
                "title": None,
                "scale": {
                    "domain": list(STATUS_LABELS),
                    "range": [palette.passed, palette.warned, palette.failed],
                },
            },
        },
    }


def recovery(rows: Sequence[RecoveryRow], palette: Palette) -> Spec:
    """Each asset's (and check's) measured restore time, year by year."""
    values = [r | {"series": f"{r['asset']} ({r['check']})"} for r in rows]
    encoding = {
        "x": {"field": "year", "type": "ordinal", "title": None, "axis": {"labelAngle": 0}},
        "y": {"field": "seconds", "type": "quantitative", "title": "seconds"},
        "color": {"field": "series", "type": "nominal", "title": None},
    }
    return _base("Restore test: time to restore and check, per asset", palette) | {
        "data": {"values": values},
        "width": 880,
        "height": 200,
        "layer": [
            {"mark": {"type": "line", "strokeWidth": 1.5}, "encoding": encoding},
            {"mark": {"type": "point", "filled": True, "size": 50}, "encoding": encoding},
        ],
    }
