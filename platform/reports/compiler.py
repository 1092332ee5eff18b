"""Compile a report definition to SQLAlchemy Core and run it.

Values from a definition or a reader only ever reach the database as bound
parameters; field names are looked up in the dataset's registry, never pasted
into SQL. Percentiles, and measures counted on another date (``bucket_on``, as
a burndown's "done" counts tasks by the day they were completed), are computed
in Python from a second query, so SQLite and PostgreSQL give the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Select, and_, asc, case, desc, func, literal, null, or_, true
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from andon import temporal
from andon.errors import InvalidDefinition
from andon.forms.jsonsql import typed_param
from andon.forms.taxonomies import Taxonomy
from andon.i18n import N_, localize
from andon.identity.models import User
from andon.reports import access, parameters
from andon.reports.datasets import DataField, Dataset, dataset
from andon.reports.definition import ReportSpec, dataset_problems, is_bucket, level_of
from andon.reports.formula import BUCKETS
from andon.reports.formula import formula as formula  # the 口径 lives beside the numbers
from andon.reports.sqlfuncs import bucket, taxonomy_level

PYTHON_MEASURES = ("percentile",)


@dataclass(frozen=True)
class ResultColumn:
    """A column of a report's result: a group (``group``) or a measure, maybe with a target."""

    key: str
    label: str
    type: str
    group: bool = False
    target: float | None = None
    better: str = "higher"
    labels: Mapping[str, str] | None = None  # a group's values as readers see them

    def shown(self, value: Any) -> Any:
        """Return a group value as readers see it: a taxonomy code as its path."""
        return self.labels.get(value, value) if self.labels and value is not None else value


@dataclass(frozen=True)
class Result:
    """The one result shape every visualisation consumes."""

    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]]

    @property
    def group_keys(self) -> list[str]:
        """Return the keys of the grouping columns, which come first."""
        return [c.key for c in self.columns if c.group]


@dataclass(frozen=True)
class Scope:
    """Who reads a report and with which parameter values (raw text as typed)."""

    reader: User | None = None
    values: Mapping[str, str] | None = None


def offset_minutes() -> int:
    """Return the installation zone's offset from UTC now, in minutes (buckets use it)."""
    offset = temporal.now().utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def group_column(source: Dataset, name: str, unit: str | None) -> ColumnElement[Any]:
    """Return the SQL of one grouping: a field, the time bucket a field falls in, or the
    ancestor at a level of the taxonomy tree of the code a field holds."""
    field = source.fields[name]
    if unit is None:
        return field.column  # type: ignore[return-value]
    level = level_of(unit)
    if level is not None:
        return taxonomy_level(field.column, _tree(source, name).by_level(level))
    return bucket(field.column, unit, offset_minutes(), is_date=field.type == "date")


def _tree(source: Dataset, name: str) -> Taxonomy:
    """Return the taxonomy of a field grouped by level, or raise if it is not published."""
    tree = source.tree(name)
    if tree is None:
        raise InvalidDefinition(N_("The taxonomy of %(field)s is not published."),
                                field=name)
    return tree


def level_labels(source: Dataset, name: str, unit: str | None) -> dict[str, str] | None:
    """Return the labels of a taxonomy field's grouped values: each code's path in the locale."""
    level = level_of(unit)
    if level is None:
        whole = source.tree(name) if unit is None and name in source.fields else None
        return {code: whole.label(code, source.locale) for code in whole.by_level(1)} \
            if whole else None
    tree = _tree(source, name)
    return {code: tree.label(code, source.locale)
            for code in set(tree.by_level(level).values())}


def where_clauses(session: Session | None, spec: ReportSpec, source: Dataset,
                  scope: Scope) -> list[ColumnElement[bool]]:
    """Return the definition's filters, the reader's parameters and row-level access."""
    found = [condition(source, c) for c in spec.body.get("filters", [])]
    if scope.values is not None:
        found += [condition(source, c) for c in
                  parameters.conditions(parameters.declared(spec, scope.values))]
    if scope.reader is not None:
        assert session is not None, "row-level access reads the form's rules"
        visible = access.visible(session, source, scope.reader)
        if visible is not None:
            found.append(visible)
    return found


def source_of(spec: ReportSpec, locale: str, session: Session | None) -> Dataset:
    """Return the report's dataset, or raise if it has changed under the report.

    A records report was checked against its form when it was loaded; the form may
    since have lost the report's fields, or its published version.
    """
    source = dataset(spec.body["dataset"], locale, session)
    problems = [] if source is None else dataset_problems(spec.body, session)
    if source is None or problems:
        raise InvalidDefinition(N_("The report %(key)s no longer fits its dataset %(dataset)s."),
                                problems=problems, key=spec.key, dataset=spec.body["dataset"])
    return source


def compile_report(spec: ReportSpec, locale: str = "en", session: Session | None = None,
                   scope: Scope | None = None) -> tuple[Select[Any], Dataset]:
    """Return the query of a report, with names in the locale, and the dataset it reads."""
    body, scope = spec.body, scope or Scope()
    source = source_of(spec, locale, session)
    groups = [group_column(source, name, unit).label(key) for key, name, unit in spec.groups]
    measures = [measure_sql(source, m).label(m["key"]) for m in body["measures"]]
    where = where_clauses(session, spec, source, scope)
    query = source.select([*groups, *measures, *where]).add_columns(*groups, *measures)
    query = query.where(*where)
    if groups:
        query = query.group_by(*[group_column(source, name, unit)
                                 for _, name, unit in spec.groups])
    if not _python_measures(spec):
        order = {"asc": asc, "desc": desc}
        labelled = {c.key: c for c in [*groups, *measures]}
        query = query.order_by(*[order[s.get("dir", "asc")](labelled[s["key"]]).nulls_last()
                                 for s in body.get("sort", [])])
        query = query.limit(body.get("limit", 1000))
    return query, source


def run_report(session: Session, spec: ReportSpec, locale: str,
               translate: Callable[[str], str], scope: Scope | None = None) -> Result:
    """Run a report for a reader and label its columns in the reader's language."""
    scope = scope or Scope()
    query, source = compile_report(spec, locale, session, scope)
    columns = [ResultColumn(key, _group_label(source, name, unit, translate),
                            "string" if unit else source.fields[name].type, group=True,
                            labels=level_labels(source, name, unit))
               for key, name, unit in spec.groups]
    for m in spec.body["measures"]:
        target = m.get("target", {})
        columns.append(ResultColumn(m["key"], localize(m["label"], locale),
                                    measure_type(source, m), target=target.get("value"),
                                    better=target.get("better", "higher")))
    rows = [tuple(plain_value(v) for v in row) for row in session.execute(query)]
    if _python_measures(spec):
        rows = _with_python_measures(session, spec, source, scope, rows)
    return Result(columns, rows)


def _group_label(source: Dataset, name: str, unit: str | None,
                 translate: Callable[[str], str]) -> str:
    """Return a grouping's column label, e.g. "Completed (month)" or "Cause (level 2)"."""
    label = translate(source.fields[name].label)
    if level_of(unit) is not None:
        return translate(N_("%(field)s (level %(level)s)")) % {"field": label,
                                                               "level": level_of(unit)}
    return f"{label} ({translate(BUCKETS[unit])})" if unit else label


def measure_sql(source: Dataset, measure: dict[str, Any]) -> ColumnElement[Any]:
    """Return the aggregate expression of one measure (NULL for those computed in Python)."""
    agg = measure["agg"]
    if agg in PYTHON_MEASURES or "bucket_on" in measure:
        return null()
    where = conditions_sql(source, measure.get("where", []))
    if agg == "rate":
        base = conditions_sql(source, measure.get("denominator", []))
        hits = and_(base, where, conditions_sql(source, measure["numerator"]))
        return (func.sum(case((hits, 1), else_=0)) * literal(1.0)
                / func.nullif(func.sum(case((base, 1), else_=0)), 0))
    if agg == "count" and "field" not in measure:
        return func.sum(case((where, 1), else_=0)) if measure.get("where") else func.count()
    column = source.fields[measure["field"]].column
    if measure.get("where"):
        column = case((where, column), else_=None)
    if agg == "count_distinct":
        return func.count(column.distinct())
    return getattr(func, agg)(column)  # count, sum, avg, min, max


def measure_type(source: Dataset, measure: dict[str, Any]) -> str:
    """Return the type of a measure's values: rates are ratios, min and max keep their field's."""
    if measure["agg"] == "rate":
        return "rate"
    if measure["agg"] in ("min", "max", "sum", "avg", "percentile"):
        return source.fields[measure["field"]].type
    return "number"


def conditions_sql(source: Dataset, conditions: Iterable[dict[str, Any]]) -> ColumnElement[bool]:
    """Return the conjunction of conditions (true when there are none)."""
    found = [condition(source, c) for c in conditions]
    return and_(*found) if found else true()


def condition(source: Dataset, item: dict[str, Any]) -> ColumnElement[bool]:
    """Return the WHERE clause of one typed condition, with its values bound."""
    field = source.fields[item["field"]]
    column, op = field.column, item["op"]
    raw = item.get("value")
    values = [_bound(field, v) for v in (raw if isinstance(raw, list) else [raw])]
    value = values[0]
    ops: dict[str, Callable[[], ColumnElement[bool]]] = {
        "eq": lambda: column == value, "ne": lambda: or_(column != value, column.is_(None)),
        "lt": lambda: column < value, "le": lambda: column <= value,
        "gt": lambda: column > value, "ge": lambda: column >= value,
        "between": lambda: and_(column >= values[0], column <= values[1]),
        "in": lambda: column.in_(values),
        "not_in": lambda: or_(column.not_in(values), column.is_(None)),
        "contains": lambda: column.contains(str(raw), autoescape=True),
        "is_null": lambda: column.is_(None), "not_null": lambda: column.is_not(None),
        "is_true": lambda: column == 1, "is_false": lambda: column == 0,
    }
    return ops[op]()


def _bound(field: DataField, value: Any) -> Any:
    """Return a condition value as its field compares it: instants aware, dates as dates.

    A number given as text (a reader's project parameter on a record field) is a number.
    """
    if field.type == "number" and isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    if value is None or field.type not in ("datetime", "date"):
        return value
    if field.type == "date":
        return typed_param(str(value)[:10], "date")
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value))
        if len(str(value)) == 10:
            moment = datetime.combine(date.fromisoformat(str(value)), time())
    return moment if moment.tzinfo else moment.replace(tzinfo=temporal.current_zone())


def plain_value(value: Any) -> Any:
    """Return a database value in one type on both databases: Decimal as float, rounded."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return round(value, 6)
    return value


def _python_measures(spec: ReportSpec) -> bool:
    """Tell whether a measure is computed in Python after the query."""
    return any(m["agg"] in PYTHON_MEASURES or "bucket_on" in m for m in spec.body["measures"])


def _with_python_measures(session: Session, spec: ReportSpec, source: Dataset, scope: Scope,
                          rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Fill in percentiles and bucket_on measures, then sort and limit in Python."""
    width = len(spec.groups)
    measures = spec.body["measures"]
    empty = [0 if "bucket_on" in m and m["agg"].startswith("count") else None for m in measures]
    by_key = {row[:width]: [*row[:width], *[e if e is not None else v for e, v in
                                            zip(empty, row[width:], strict=True)]]
              for row in rows}
    where = where_clauses(session, spec, source, scope)
    for index, measure in enumerate(measures, start=width):
        if measure["agg"] in PYTHON_MEASURES:
            for key, value in _percentiles(session, spec, source, where, measure).items():
                if key in by_key:
                    by_key[key][index] = value
        elif "bucket_on" in measure:
            for key, value in _counted_on(session, spec, source, where, measure).items():
                row = by_key.setdefault(key, [*key, *[0 if m["agg"].startswith("count") else None
                                                      for m in measures]])
                row[index] = value
    merged = [tuple(row) for row in by_key.values()]
    keys = [k for k, _, _ in spec.groups] + [m["key"] for m in measures]
    for item in reversed(spec.body.get("sort", [])):  # stable sorts, last key first
        at = keys.index(item["key"])
        known = sorted((r for r in merged if r[at] is not None), key=itemgetter(at),
                       reverse=item.get("dir") == "desc")
        merged = known + [r for r in merged if r[at] is None]  # empty values last
    return merged[:spec.body.get("limit", 1000)]


def _percentiles(session: Session, spec: ReportSpec, source: Dataset,
                 where: list[ColumnElement[bool]], measure: dict[str, Any]
                 ) -> dict[tuple[Any, ...], float | None]:
    """Return a percentile of a field's values for each group (linear interpolation)."""
    groups = [group_column(source, name, unit) for _, name, unit in spec.groups]
    value = source.fields[measure["field"]].column
    own = conditions_sql(source, measure.get("where", []))
    query = (source.select([*groups, value, own, *where]).add_columns(*groups, value)
             .where(*where, value.is_not(None), own))
    values: dict[tuple[Any, ...], list[float]] = {}
    for row in session.execute(query):
        values.setdefault(tuple(row[:-1]), []).append(float(row[-1]))
    return {key: percentile(found, float(measure["p"])) for key, found in values.items()}


def percentile(values: list[float], p: float) -> float | None:
    """Return the p-th percentile of values, interpolating between the nearest two."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 6)


def _counted_on(session: Session, spec: ReportSpec, source: Dataset,
                where: list[ColumnElement[bool]], measure: dict[str, Any]
                ) -> dict[tuple[Any, ...], Any]:
    """Return a measure grouped with its time buckets counted on ``bucket_on`` instead."""
    groups = [group_column(source, measure["bucket_on"] if is_bucket(unit) else name, unit)
              for _, name, unit in spec.groups]
    plain = {k: v for k, v in measure.items() if k != "bucket_on"}
    counted = measure_sql(source, plain)
    query = (source.select([*groups, counted, *where]).add_columns(*groups, counted)
             .where(*where).group_by(*groups))
    if spec.groups:
        query = query.where(*[g.is_not(None) for g in groups])
    return {tuple(row[:-1]): plain_value(row[-1]) for row in session.execute(query)}
