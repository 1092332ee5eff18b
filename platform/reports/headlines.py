"""A tile's headline numbers in words: a KPI against its target, or a report's top rows.

Digests send these; they are computed for one reader, with that reader's
row-level access, like the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from andon.i18n import N_
from andon.identity.models import User
from andon.reports import charts
from andon.reports.compiler import Result, ResultColumn, Scope, run_report
from andon.reports.dashboards import Tile

Translate = Callable[[str], str]
TOP = 5
SERIES = ("line", "burndown")  # time series: the latest buckets matter, not the first


@dataclass(frozen=True)
class Kpi:
    """A KPI's latest value, its target and whether it meets it, as text."""

    label: str
    value: str
    target: str | None
    met: bool | None


@dataclass(frozen=True)
class Headline:
    """What a digest says about one tile."""

    title: str
    refusal: str | None = None
    kpi: Kpi | None = None
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    total: int = 0


def number(column: ResultColumn, value: Any) -> str:
    """Return a measure's value as a reader reads it: rates as percentages, one decimal."""
    if value is None:
        return "—"
    if column.type == "rate":
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:.1f}"
    if isinstance(value, datetime | date):
        return value.isoformat()[:16].replace("T", " ")
    return str(value)


def headline(session: Session, item: Tile, title: str, user: User, locale: str,
             translate: Translate) -> Headline:
    """Run a tile's report for a reader and return its headline numbers."""
    if item.refusal is not None or item.report is None:
        return Headline(title, refusal=translate(item.refusal or ""))
    result = run_report(session, item.report, locale, translate, Scope(user, item.values))
    shown = _shown(result, item.visualisation)
    kind = item.visualisation.get("type")
    if kind == "kpi" and result.rows:
        return Headline(title, kpi=_kpi(result, shown[0]), total=len(result.rows))
    rows = _ordered(result, shown[0], kind)
    rows = rows[-TOP:] if kind in SERIES else rows[:TOP]
    at = {c.key: i for i, c in enumerate(result.columns)}
    none = translate(N_("(none)"))
    return Headline(title, columns=[c.label for c in shown], total=len(result.rows),
                    rows=[(_label(result, row, none),
                           [number(c, row[at[c.key]]) for c in shown]) for row in rows])


def _shown(result: Result, visualisation: dict[str, Any]) -> list[ResultColumn]:
    """Return the measures a visualisation plots (at most three), else every measure."""
    measures = [c for c in result.columns if not c.group]
    chosen = [c for key in visualisation.get("measures", []) for c in measures if c.key == key]
    return (chosen or measures)[:3]


def _ordered(result: Result, column: ResultColumn, kind: Any) -> list[tuple[Any, ...]]:
    """Return the rows as the chart orders them: a Pareto's largest first."""
    if kind != "pareto":
        return list(result.rows)
    at = [c.key for c in result.columns].index(column.key)
    return sorted(result.rows, key=lambda row: -(row[at] or 0))


def _label(result: Result, row: tuple[Any, ...], none: str) -> str:
    """Return a row's group values as one label."""
    values = charts.group_values(result, row)
    return " / ".join(value or none for value in values.values()) or "—"


def _kpi(result: Result, column: ResultColumn) -> Kpi:
    """Return the latest known value of a KPI with its target."""
    at = [c.key for c in result.columns].index(column.key)
    latest = next((row[at] for row in reversed(result.rows) if row[at] is not None), None)
    met = None
    if column.target is not None and latest is not None:
        met = latest >= column.target if column.better == "higher" else latest <= column.target
    target = None if column.target is None else number(column, column.target)
    return Kpi(column.label, number(column, latest), target, met)
