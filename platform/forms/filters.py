"""Find a form's records: search, typed filters on any field, sort; queries for paging.

Filters arrive as ``{"field.op": [values]}`` (a URL's query), e.g.
``amount.ge=100``, ``due.lt=2026-12-01``, ``status.in=open&status.in=late``.
Each field's kind in the form decides its operators and how values compare:
numbers as numbers, dates as dates, options by their stored value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select

from andon.forms.fields import option_text, parse_number, supported
from andon.forms.jsonsql import field_contains, field_value, typed_param
from andon.forms.models import Record
from andon.forms.schema import FormSpec, option_values
from andon.i18n import N_, Message

OPERATORS = {
    "string": ("contains", "eq"),
    "number": ("eq", "ge", "le", "gt", "lt"),
    "date": ("eq", "ge", "le", "gt", "lt"),
    "datetime": ("eq", "ge", "le", "gt", "lt"),
    "enum": ("in", "eq"),
    "boolean": ("eq",),
}
SQL_KIND = {"string": "text", "number": "number", "date": "date", "datetime": "datetime",
            "enum": "text", "boolean": "text"}
COLUMNS = {"created": Record.created_at, "updated": Record.updated_at}
BAD_VALUE = {
    "number": N_("Enter a number."),
    "date": N_("Enter a date as YYYY-MM-DD."),
    "datetime": N_("Enter a date and time as YYYY-MM-DD HH:MM."),
    "enum": N_("Choose one of the listed options."),
    "boolean": N_("Choose yes or no."),
}


@dataclass(frozen=True)
class Filter:
    """One condition on one field: ``values`` are already typed for the field's kind."""

    name: str
    kind: str
    op: str
    values: tuple[Any, ...]


def field_kinds(spec: FormSpec) -> dict[str, str]:
    """Return each filterable field's kind: string, number, date, datetime, enum or boolean."""
    kinds = {}
    for name, kind, prop in supported(spec):
        if kind == "integer":
            kind = "number"
        elif kind == "string" and prop.get("format") in ("date", "date-time"):
            kind = "date" if prop["format"] == "date" else "datetime"
        kinds[name] = kind
    return kinds


def parse_filters(spec: FormSpec, query: Mapping[str, Sequence[str]]
                  ) -> tuple[list[Filter], dict[str, Message]]:
    """Return the filters in a query and a Message per field whose value is not valid."""
    kinds = field_kinds(spec)
    filters, errors = [], {}
    for key, raw_values in query.items():
        name, _, op = key.rpartition(".")
        kind = kinds.get(name)
        values = [v.strip() for v in raw_values if v.strip()]
        if kind is None or op not in OPERATORS[kind] or not values:
            continue
        try:
            typed = tuple(_typed(spec, name, kind, v) for v in values)
        except ValueError:
            errors[name] = Message(BAD_VALUE[kind])
            continue
        filters.append(Filter(name, kind, op, typed if op == "in" else typed[:1]))
    return filters, errors


def _typed(spec: FormSpec, name: str, kind: str, raw: str) -> Any:
    """Return one filter value typed for its field; raise ValueError if it is not valid."""
    if kind == "number":
        return parse_number(raw)
    if kind == "date":
        return date.fromisoformat(raw).isoformat()
    if kind == "datetime":
        return datetime.fromisoformat(raw).isoformat()
    if kind == "boolean":
        if raw not in ("true", "false"):
            raise ValueError(raw)
        return raw == "true"
    if kind == "enum":
        by_text = {option_text(v): v for v in option_values(spec.properties[name])}
        if raw not in by_text:
            raise ValueError(raw)
        return by_text[raw]
    return raw


def list_records(spec: FormSpec, search: str = "", filters: Sequence[Filter] = (),
                 sort: str = "-created") -> Select[Record]:
    """Return the query of a form's records that match, sorted; the caller pages it."""
    query = select(Record).where(Record.form_key == spec.key)
    words = search.casefold().split()
    for word in words:
        query = query.where(Record.search_text.like(f"%{_escaped(word)}%", escape="\\"))
    for condition in filters:
        query = query.where(_condition(condition))
    return query.order_by(*_order(spec, sort))


def _escaped(text: str) -> str:
    """Return text for LIKE with its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _condition(condition: Filter) -> Any:
    """Return the SQL condition of one filter."""
    path, kind, value = [condition.name], condition.kind, condition.values[0]
    if condition.op in ("in", "eq") and kind in ("enum", "boolean", "string"):
        return field_contains(Record.data, path, condition.values)
    field = field_value(Record.data, path, SQL_KIND[kind])
    if condition.op == "contains":
        return field.ilike(f"%{_escaped(value)}%", escape="\\")
    param = typed_param(value, SQL_KIND[kind])
    return {"eq": field == param, "ge": field >= param, "le": field <= param,
            "gt": field > param, "lt": field < param}[condition.op]


def sort_keys(spec: FormSpec) -> list[str]:
    """Return what a list can be sorted by: created, updated and every field."""
    return [*COLUMNS, *field_kinds(spec)]


def _order(spec: FormSpec, sort: str) -> list[Any]:
    """Return the ORDER BY of a sort key ('-' first for descending); newest first otherwise."""
    name = sort.lstrip("-")
    kinds = field_kinds(spec)
    if name in COLUMNS:
        column: Any = COLUMNS[name]
    elif name in kinds:
        column = field_value(Record.data, [name], SQL_KIND[kinds[name]])
    else:
        return [Record.created_at.desc(), Record.id.desc()]
    if sort.startswith("-"):
        return [column.desc().nulls_last(), Record.id.desc()]
    return [column.asc().nulls_last(), Record.id.asc()]
