"""Turn a field path inside a JSON column into SQL, the same query on SQLite and PostgreSQL.

``field_value(column, path, kind)`` is the one helper: it compiles to
``json_extract`` on SQLite and to ``#>>`` with a cast on PostgreSQL. Each kind
yields a value SQL compares the way a person expects: ``number`` numerically
(9 < 10), ``date`` and ``datetime`` as dates and instants, ``text`` as text. A
stored value of another JSON type (left by an older form version) becomes
NULL instead of an error. ``field_contains`` is equality written so that
PostgreSQL's GIN index on the column serves it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, literal, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

KINDS = ("text", "number", "date", "datetime")
_DATE_RE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_DATETIME_RE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}"


class _FieldValue(FunctionElement[Any]):
    """A typed field value; one subclass per kind keeps SQLAlchemy's statement cache right."""

    inherit_cache = True
    kind = "text"


class _Text(_FieldValue):
    inherit_cache = True
    kind = "text"
    type = String()


class _Number(_FieldValue):
    inherit_cache = True
    kind = "number"


class _Date(_FieldValue):
    inherit_cache = True
    kind = "date"


class _DateTime(_FieldValue):
    inherit_cache = True
    kind = "datetime"


_BY_KIND: dict[str, type[_FieldValue]] = {c.kind: c for c in (_Text, _Number, _Date, _DateTime)}


def field_value(column: Any, path: Sequence[str], kind: str = "text") -> ColumnElement[Any]:
    """Return the SQL value of the field at ``path`` (keys from the top) as ``kind``."""
    if kind not in _BY_KIND:
        raise ValueError(f"unknown kind {kind!r}")
    return _BY_KIND[kind](column, bindparam(None, list(path), type_=_PathType()))


def typed_param(value: Any, kind: str) -> ColumnElement[Any]:
    """Return a parameter compared against a field value of ``kind`` (dates as ISO text)."""
    if kind == "date":
        return _DateParam(literal(str(value), String()))
    if kind == "datetime":
        return _DateTimeParam(literal(str(value), String()))
    return literal(value)


def field_contains(column: Any, path: Sequence[str], values: Sequence[Any]) -> Any:
    """Return SQL that is true when the field at ``path`` equals one of ``values``."""
    return or_(*(_Contains(column, literal(_nested(path, v), String())) for v in values))


def _nested(path: Sequence[str], value: Any) -> str:
    """Return the JSON object that has ``value`` at ``path``."""
    for key in reversed(path):
        value = {key: value}
    return json.dumps(value, ensure_ascii=False)


class _PathType(ARRAY):  # type: ignore[type-arg]
    """A path bound as text[] on PostgreSQL and as a JSON path string on SQLite."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(String())

    def bind_processor(self, dialect: Any) -> Any:
        """Render the keys as '$."a"."b"' for SQLite; PostgreSQL takes the list."""
        if dialect.name == "postgresql":
            return None
        return lambda keys: "$" + "".join("." + json.dumps(str(k)) for k in keys)


class _DateParam(FunctionElement[Any]):
    inherit_cache = True


class _DateTimeParam(FunctionElement[Any]):
    inherit_cache = True


class _Contains(FunctionElement[Any]):
    inherit_cache = True


def compiled_args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    """Return the compiled arguments of a construct."""
    return [compiler.process(arg, **kw) for arg in element.clauses]


@compiles(_FieldValue, "sqlite")
def _sqlite_value(element: _FieldValue, compiler: SQLCompiler, **kw: Any) -> str:
    column, path = compiled_args(element, compiler, **kw)
    raw, json_type = f"json_extract({column}, {path})", f"json_type({column}, {path})"
    if element.kind == "number":
        return f"(CASE WHEN {json_type} IN ('integer', 'real') THEN {raw} END)"
    if element.kind == "date":
        return f"(CASE WHEN {json_type} = 'text' THEN date({raw}) END)"
    if element.kind == "datetime":
        return f"(CASE WHEN {json_type} = 'text' THEN datetime({raw}) END)"
    return (f"(CASE {json_type} WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"ELSE CAST({raw} AS TEXT) END)")


@compiles(_FieldValue, "postgresql")
def _postgresql_value(element: _FieldValue, compiler: SQLCompiler, **kw: Any) -> str:
    column, path = compiled_args(element, compiler, **kw)
    raw = f"({column} #>> CAST({path} AS TEXT[]))"
    if element.kind == "number":
        node = f"({column} #> CAST({path} AS TEXT[]))"
        return f"(CASE WHEN jsonb_typeof({node}) = 'number' THEN CAST({raw} AS NUMERIC) END)"
    if element.kind == "date":
        return f"(CASE WHEN {raw} ~ '{_DATE_RE}' THEN CAST({raw} AS DATE) END)"
    if element.kind == "datetime":
        return f"(CASE WHEN {raw} ~ '{_DATETIME_RE}' THEN CAST({raw} AS TIMESTAMPTZ) END)"
    return raw


@compiles(_DateParam, "sqlite")
def _sqlite_date(element: _DateParam, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiled_args(element, compiler, **kw)[0]})"


@compiles(_DateTimeParam, "sqlite")
def _sqlite_datetime(element: _DateTimeParam, compiler: SQLCompiler, **kw: Any) -> str:
    return f"datetime({compiled_args(element, compiler, **kw)[0]})"


@compiles(_DateParam, "postgresql")
def _postgresql_date(element: _DateParam, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiled_args(element, compiler, **kw)[0]} AS DATE)"


@compiles(_DateTimeParam, "postgresql")
def _postgresql_datetime(element: _DateTimeParam, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiled_args(element, compiler, **kw)[0]} AS TIMESTAMPTZ)"


@compiles(_Contains, "sqlite")
def _sqlite_contains(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    """Compare the one value in the object: SQLite has no containment operator."""
    column, wanted = compiled_args(element, compiler, **kw)  # a column name and a bound parameter
    return (f"EXISTS (SELECT 1 FROM json_tree({wanted}) AS w WHERE w.atom IS NOT NULL "  # noqa: S608
            f"AND json_extract({column}, w.fullkey) IS w.atom "
            f"AND (json_type({column}, w.fullkey) = w.type OR "
            f"(json_type({column}, w.fullkey) IN ('integer', 'real') "
            f"AND w.type IN ('integer', 'real'))))")


@compiles(_Contains, "postgresql")
def _postgresql_contains(element: _Contains, compiler: SQLCompiler, **kw: Any) -> str:
    column, wanted = compiled_args(element, compiler, **kw)
    return f"({column} @> CAST({wanted} AS JSONB))"

