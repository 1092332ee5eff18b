"""Drill-down: the tasks, instances or records behind one row of a report.

The group values of a result row (as text, the way a link carries them) become
conditions beside the report's filters, the reader's parameters and row-level
access, so a drill-down lists exactly the rows its number counted. Naming a
measure adds that measure's own conditions (a rate's denominator, any other
measure's ``where``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon.catalog import DefinitionVersion
from andon.errors import InvalidDefinition
from andon.i18n import N_
from andon.reports.compiler import (
    ResultColumn,
    Scope,
    conditions_sql,
    group_column,
    plain_value,
    source_of,
    where_clauses,
)
from andon.reports.datasets import Dataset
from andon.reports.definition import ReportSpec, is_bucket

DRILL_LIMIT = 1000
WORKING = N_("Working hours taken")
EMPTY = ""  # how a link carries a group whose value is empty


@dataclass(frozen=True)
class DrillRow:
    """One underlying row: the page it opens and the values listed."""

    link: str  # "task", "instance" or "record"
    id: int
    form_key: str | None
    cells: tuple[Any, ...]


@dataclass(frozen=True)
class Drill:
    """The rows behind one result row, and whether there were more than listed."""

    columns: list[ResultColumn]
    rows: list[DrillRow]
    more: bool


def drill(session: Session, spec: ReportSpec, locale: str, translate: Callable[[str], str],
          group: Mapping[str, str], measure: str | None = None, scope: Scope | None = None,
          limit: int = DRILL_LIMIT) -> Drill:
    """Return the underlying rows of the result row whose group values are ``group``."""
    scope = scope or Scope()
    source = source_of(spec, locale, session)
    where = where_clauses(session, spec, source, scope)
    chosen = next((m for m in spec.body["measures"] if m["key"] == measure), None)
    for key, name, unit in spec.groups:
        if key not in group:
            raise InvalidDefinition(N_("Choose a value for %(field)s."), field=key)
        if is_bucket(unit) and chosen is not None and "bucket_on" in chosen:
            name = chosen["bucket_on"]  # e.g. the tasks completed on the day, not created
        column = group_column(source, name, unit)
        value = group[key]
        if value == EMPTY:
            where.append(column.is_(None))
        else:
            where.append(column == _typed(source, name, unit, value))
    if chosen is not None:
        own = chosen.get("denominator", []) if chosen["agg"] == "rate" \
            else chosen.get("where", [])  # a rate lists what it divides by
        where.append(conditions_sql(source, own))
    fixed = {name for _, name, unit in spec.groups if unit is None}  # the same on every row
    shown = [name for name in source.drill if name not in fixed]
    cells = [source.fields[name].column.label(name) for name in shown]
    row_id = source.row_id.label("row_id")
    query = (source.select([row_id, *cells, *where]).add_columns(row_id, *cells).where(*where)
             .order_by(source.row_id).limit(limit + 1))
    found = list(session.execute(query))
    columns = [ResultColumn(name, translate(source.fields[name].label),
                            source.fields[name].type) for name in shown]
    rows = [DrillRow(source.link, row[0], source.form_key,
                     tuple(_shown(source, name, value, translate)
                           for name, value in zip(shown, row[1:], strict=True)))
            for row in found[:limit]]
    if source.link == "task":
        columns.append(ResultColumn("working_hours_taken", translate(WORKING), "hours"))
        rows = _with_working_time(session, rows)
    return Drill(columns, rows, len(found) > limit)


def _with_working_time(session: Session, rows: list[DrillRow]) -> list[DrillRow]:
    """Add each completed task's working hours in its flow's business calendar.

    Cheap here, for the few hundred rows a drill-down lists; a report's measures use
    elapsed hours, which SQL computes on both databases (see docs/reports.md).
    """
    from andon.flows.deadlines import calendar_of
    from andon.flows.models import FlowInstance, Task

    query = (select(Task.id, Task.created_at, Task.completed_at, FlowInstance.version_id)
             .join(FlowInstance, Task.instance_id == FlowInstance.id)
             .where(Task.id.in_([row.id for row in rows])))
    found = {task_id: (start, end, version) for task_id, start, end, version
             in session.execute(query)}
    calendars: dict[int, Any] = {}
    shown = []
    for row in rows:
        start, end, version_id = found[row.id]
        hours = None
        if end is not None:
            if version_id not in calendars:
                calendars[version_id] = calendar_of(
                    session, session.get_one(DefinitionVersion, version_id))
            taken = calendars[version_id].working_time_between(start, end)
            hours = round(taken.total_seconds() / 3600, 2)
        shown.append(DrillRow(row.link, row.id, row.form_key, (*row.cells, hours)))
    return shown


def _shown(source: Dataset, name: str, value: Any, translate: Callable[[str], str]) -> Any:
    """Return a listed value: a choice as its label, numbers plain."""
    field = source.fields[name]
    if field.choices and value is not None and str(value) in field.choices:
        return translate(field.choices[str(value)])
    if field.taxonomy and value is not None:
        return source.code_label(name, value)
    return plain_value(value)


def _typed(source: Dataset, name: str, unit: str | None, text: str) -> Any:
    """Return a group value from a link as the grouping compares it."""
    kind = source.fields[name].type
    if unit is not None:
        return text
    try:
        if kind in ("number", "hours", "boolean"):
            number = float(text)
            return int(number) if number.is_integer() else number
        if kind == "datetime":
            return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidDefinition(N_("%(value)s is not a value of %(field)s."),
                                value=text, field=name) from None
    return text
