"""SQL constructs that read the same on SQLite and PostgreSQL: durations and time buckets.

``hours_between(start, end)`` is the elapsed time in hours (NULL while ``end``
is NULL). ``bucket(column, unit, offset_minutes)`` is the text label of the
day (``2026-11-02``), week (its Monday, ``2026-11-02``), month (``2026-11``) or
quarter (``2026-Q4``) a moment falls in, counted in a fixed offset from UTC
(the installation zone's offset), so both databases put a row in the same bucket.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String, case, literal, null
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from andon.forms.jsonsql import compiled_args

UNITS = ("day", "week", "month", "quarter")


class _Hours(FunctionElement[Any]):
    """Hours from the first argument to the second."""

    inherit_cache = True
    type = Float()


class _Bucket(FunctionElement[Any]):
    """A time bucket label; one subclass per unit keeps the statement cache right."""

    inherit_cache = True
    type = String()
    unit = "day"
    is_date = False


def _unit_class(unit: str, is_date: bool) -> type[_Bucket]:
    """Return the bucket construct of one unit, for date-times or plain dates."""
    return _BUCKETS[(unit, is_date)]


_BUCKETS: dict[tuple[str, bool], type[_Bucket]] = {
    (unit, is_date): type(f"_Bucket_{unit}_{int(is_date)}", (_Bucket,),
                          {"inherit_cache": True, "unit": unit, "is_date": is_date})
    for unit in UNITS for is_date in (False, True)}


def hours_between(start: Any, end: Any) -> ColumnElement[Any]:
    """Return the hours from ``start`` to ``end`` as a float."""
    return _Hours(start, end)


def bucket(column: Any, unit: str, offset_minutes: int = 0,
           is_date: bool = False) -> ColumnElement[Any]:
    """Return the label of the ``unit`` that ``column`` falls in, ``offset_minutes`` from UTC."""
    if unit not in UNITS:
        raise ValueError(f"unknown time bucket {unit!r}")
    minutes = 0 if is_date else int(offset_minutes)
    # rendered into the SQL text (our own integer, never a reader's text), so that
    # PostgreSQL sees the same expression in SELECT and GROUP BY
    return _unit_class(unit, is_date)(
        column, literal(f"{minutes:+d} minutes", String(), literal_execute=True),
        literal(minutes, Integer(), literal_execute=True))


def taxonomy_level(column: Any, ancestors: dict[str, str]) -> ColumnElement[Any]:
    """Return the ancestor code (at one level of its taxonomy) of the code ``column`` holds.

    ``ancestors`` maps every code at or below the level to its ancestor there; codes
    above the level, unknown codes and empty values give NULL. The codes come from a
    published taxonomy (letters, digits, ``_.-``), rendered into the SQL text like a
    bucket's offset so that PostgreSQL sees the same expression in SELECT and GROUP BY.
    """
    if not ancestors:
        return null()
    return case(*[(column == _literal(code), _literal(ancestor))
                  for code, ancestor in sorted(ancestors.items())], else_=null())


def _literal(text: str) -> ColumnElement[Any]:
    """Return our own text (a taxonomy code) as a literal rendered into the statement."""
    return literal(text, String(), literal_execute=True)


@compiles(_Hours, "sqlite")
def _sqlite_hours(element: _Hours, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = compiled_args(element, compiler, **kw)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


@compiles(_Hours, "postgresql")
def _postgresql_hours(element: _Hours, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = compiled_args(element, compiler, **kw)
    return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS FLOAT) / 3600.0)"


@compiles(_Bucket, "sqlite")
def _sqlite_bucket(element: _Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, modifier, _ = compiled_args(element, compiler, **kw)
    if element.unit == "day":
        return f"strftime('%Y-%m-%d', {column}, {modifier})"
    if element.unit == "week":
        return f"date({column}, {modifier}, 'weekday 0', '-6 days')"
    if element.unit == "month":
        return f"strftime('%Y-%m', {column}, {modifier})"
    return (f"(strftime('%Y', {column}, {modifier}) || '-Q' || "
            f"((CAST(strftime('%m', {column}, {modifier}) AS INTEGER) + 2) / 3))")


@compiles(_Bucket, "postgresql")
def _postgresql_bucket(element: _Bucket, compiler: SQLCompiler, **kw: Any) -> str:
    column, _, minutes = compiled_args(element, compiler, **kw)
    shifted = (f"CAST({column} AS TIMESTAMP)" if element.is_date else
               f"(({column} AT TIME ZONE 'UTC') + {minutes} * INTERVAL '1 minute')")
    if element.unit == "day":
        return f"to_char({shifted}, 'YYYY-MM-DD')"
    if element.unit == "week":
        return f"to_char(date_trunc('week', {shifted}), 'YYYY-MM-DD')"
    if element.unit == "month":
        return f"to_char({shifted}, 'YYYY-MM')"
    return f"to_char({shifted}, 'YYYY-\"Q\"Q')"


class _RecordId(FunctionElement[Any]):
    """A record id read from text: the number when the text is only digits, else NULL."""

    inherit_cache = True
    type = Integer()


def record_id_in(text: Any) -> ColumnElement[Any]:
    """Return the integer a text column holds when it is only digits, else NULL."""
    return _RecordId(text)


@compiles(_RecordId)
@compiles(_RecordId, "sqlite")
def _sqlite_record_id(element: _RecordId, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = compiled_args(element, compiler, **kw)
    return (f"(CASE WHEN {text} <> '' AND {text} NOT GLOB '*[^0-9]*' AND length({text}) <= 18 "
            f"THEN CAST({text} AS INTEGER) END)")


@compiles(_RecordId, "postgresql")
def _postgresql_record_id(element: _RecordId, compiler: SQLCompiler, **kw: Any) -> str:
    (text,) = compiled_args(element, compiler, **kw)
    return f"(CASE WHEN {text} ~ '^[0-9]{{1,18}}$' THEN CAST({text} AS BIGINT) END)"
