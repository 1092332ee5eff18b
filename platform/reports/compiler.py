"""Compile a report definition to SQLAlchemy Core and run it.

Values from a definition only ever reach the database as bound parameters;
field names are looked up in the dataset's registry, never pasted into SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from babel import Locale
from babel.lists import format_list
from sqlalchemy import Select, asc, desc, func
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from andon.i18n import N_, localize
from andon.reports.datasets import Dataset, dataset
from andon.reports.definition import ReportSpec

AGGREGATE_TEXT = {
    "count": N_("number of %(what)s"), "count_distinct": N_("number of distinct %(what)s"),
    "sum": N_("total %(what)s"), "avg": N_("average %(what)s"),
    "min": N_("smallest %(what)s"), "max": N_("largest %(what)s"),
    "min datetime": N_("earliest %(what)s"), "max datetime": N_("latest %(what)s"),
}
OPERATOR_TEXT = {
    "eq": N_("is"), "ne": N_("is not"), "lt": N_("is below"), "le": N_("is at most"),
    "gt": N_("is above"), "ge": N_("is at least"), "in": N_("is one of"),
    "is_null": N_("is empty"), "not_null": N_("is not empty"),
}


@dataclass(frozen=True)
class ResultColumn:
    """A column of a report's result."""

    key: str
    label: str
    type: str


@dataclass(frozen=True)
class Result:
    """The one result shape every visualisation consumes."""

    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]]


def compile_report(spec: ReportSpec, locale: str = "en") -> tuple[Select[Any], Dataset]:
    """Return the query of a report, with names in the locale, and the dataset it reads."""
    body = spec.body
    source = dataset(body["dataset"], locale)
    assert source is not None, "definitions are checked before they are stored"
    groups = [source.fields[name].column.label(name) for name in body.get("group_by", [])]
    measures = [_measure(source, m).label(m["key"]) for m in body["measures"]]
    query = source.base.add_columns(*groups, *measures)
    for condition in body.get("filters", []):
        query = query.where(_condition(source, condition))
    if groups:
        query = query.group_by(*[source.fields[name].column for name in body["group_by"]])
    order = {"asc": asc, "desc": desc}
    labelled = {c.key: c for c in [*groups, *measures]}
    query = query.order_by(*[order[s.get("dir", "asc")](labelled[s["key"]])
                             for s in body.get("sort", [])])
    return query.limit(body.get("limit", 1000)), source


def run_report(session: Session, spec: ReportSpec, locale: str,
               translate: Callable[[str], str]) -> Result:
    """Run a report and label its columns in the reader's language."""
    query, source = compile_report(spec, locale)
    columns = [ResultColumn(name, translate(source.fields[name].label), source.fields[name].type)
               for name in spec.body.get("group_by", [])]
    columns += [ResultColumn(m["key"], localize(m["label"], locale), _measure_type(source, m))
                for m in spec.body["measures"]]
    return Result(columns, [tuple(row) for row in session.execute(query)])


def formula(spec: ReportSpec, locale: str, translate: Callable[[str], str]) -> list[str]:
    """Describe in plain words how each number is computed (the report's 口径)."""
    source = dataset(spec.body["dataset"], locale)
    assert source is not None
    lines = [f"{localize(m['label'], locale)} = {_aggregate_text(source, m, translate)}"
             for m in spec.body["measures"]]
    where = [_condition_text(source, c, locale, translate)
             for c in spec.body.get("filters", [])]
    if where:
        lines.append(translate(N_("Only where: %(conditions)s"))
                     % {"conditions": _listed(where, locale)})
    by = [translate(source.fields[name].label) for name in spec.body.get("group_by", [])]
    if by:
        lines.append(translate(N_("Grouped by: %(fields)s")) % {"fields": _listed(by, locale)})
    return lines


def _aggregate_text(source: Dataset, measure: dict[str, Any],
                    translate: Callable[[str], str]) -> str:
    """Say what one measure computes, e.g. "earliest Created"."""
    what = source.fields[measure["field"]] if "field" in measure else None
    kind = f"{measure['agg']} {what.type}" if what else measure["agg"]
    text = AGGREGATE_TEXT.get(kind, AGGREGATE_TEXT[measure["agg"]])
    return translate(text) % {"what": translate(what.label if what else source.label)}


def _condition_text(source: Dataset, condition: dict[str, Any], locale: str,
                    translate: Callable[[str], str]) -> str:
    """Say what one filter keeps, e.g. "Task state is Open"."""
    field = source.fields[condition["field"]]
    values = condition.get("value")
    values = values if isinstance(values, list) else [] if values is None else [values]
    shown = [translate(field.choices[str(v)]) if str(v) in field.choices else str(v)
             for v in values]
    return " ".join([translate(field.label), translate(OPERATOR_TEXT[condition["op"]]),
                     _listed(shown, locale, "or") if shown else ""]).strip()


def _listed(items: list[str], locale: str, style: str = "standard") -> str:
    """Join items as the locale lists things ("A, B and C", "A、B和C")."""
    return format_list(items, style=style,  # type: ignore[arg-type]
                       locale=Locale.parse(locale, sep="-") if "-" in locale else locale)


def _measure(source: Dataset, measure: dict[str, Any]) -> ColumnElement[Any]:
    """Return the aggregate expression of one measure."""
    if measure["agg"] == "count" and "field" not in measure:
        return func.count()
    column = source.fields[measure["field"]].column
    if measure["agg"] == "count_distinct":
        return func.count(column.distinct())
    return getattr(func, measure["agg"])(column)  # count, sum, avg, min, max


def _measure_type(source: Dataset, measure: dict[str, Any]) -> str:
    """Return the type of a measure's values: min and max keep their field's type."""
    if measure["agg"] in ("min", "max"):
        return source.fields[measure["field"]].type
    return "number"


def _condition(source: Dataset, condition: dict[str, Any]) -> ColumnElement[bool]:
    """Return the WHERE clause of one filter, with the value bound."""
    column = source.fields[condition["field"]].column
    value = condition.get("value")
    ops: dict[str, Callable[[], ColumnElement[bool]]] = {
        "eq": lambda: column == value, "ne": lambda: column != value,
        "lt": lambda: column < value, "le": lambda: column <= value,
        "gt": lambda: column > value, "ge": lambda: column >= value,
        "in": lambda: column.in_(list(value or [])),
        "is_null": lambda: column.is_(None), "not_null": lambda: column.is_not(None),
    }
    return ops[condition["op"]]()
