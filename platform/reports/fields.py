"""What every dataset is made of: typed fields, the dataset itself, and shared columns.

Field types: ``string``, ``number``, ``boolean`` (computed as 1 or 0, so both
databases agree), ``datetime``, ``date`` and ``hours`` (a duration in hours).

Datasets reach the instance, its version, flow and starter by LEFT JOINs along
foreign keys that are never NULL: the same rows as inner joins, and both
databases leave out a join whose columns a report does not use, so a report on
task columns alone reads only the task table (see docs/reports.md, Performance).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, and_, case, func, inspect, select
from sqlalchemy.orm import QueryableAttribute, aliased
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.util import find_tables

from andon.forms.jsonsql import field_value
from andon.forms.models import Record
from andon.forms.taxonomies import Taxonomy
from andon.i18n import N_, normalize_locale
from andon.reports.sqlfuncs import record_id_in

TYPES = ("string", "number", "boolean", "datetime", "date", "hours")
PROJECT_FORM = "project"  # the form whose records FlowInstance.project points at


@dataclass(frozen=True)
class DataField:
    """One field of a dataset, with its type and label."""

    key: str
    label: str
    type: str
    column: ColumnElement[Any] | QueryableAttribute[Any]
    choices: dict[str, str] = field(default_factory=dict)  # stored value -> label msgid
    taxonomy: str | None = None  # the taxonomy whose codes the field holds


@dataclass(frozen=True)
class Dataset:
    """A base query, the fields a report may filter, group and measure, and its rows' pages.

    ``link`` names the page each row opens (``task``, ``instance`` or ``record``),
    ``row_id`` its id, ``drill`` the fields a drill-down lists, and ``scope`` the
    columns row-level access reads: the row's org unit, its instance, its creator.
    """

    key: str
    label: str
    fields: dict[str, DataField]
    base: Select[Any]
    link: str
    row_id: ColumnElement[Any] | QueryableAttribute[Any]
    drill: list[str]
    scope: dict[str, Any]
    form_key: str | None = None
    trees: dict[str, Taxonomy] = field(default_factory=dict)  # its taxonomy fields' trees
    locale: str = "en"

    def tree(self, name: str) -> Taxonomy | None:
        """Return the published taxonomy of a taxonomy field, None if not one or not loaded."""
        key = self.fields[name].taxonomy
        return self.trees.get(key) if key else None

    def code_label(self, name: str, code: Any) -> Any:
        """Return a taxonomy field's code as its path in the dataset's language."""
        tree = self.tree(name)
        return tree.label(str(code), self.locale) if tree and code is not None else code

    def select(self, parts: Iterable[Any]) -> Select[Any]:
        """Return the base query without the left joins that none of the parts reads."""
        return narrowed(self.base, parts)


def narrowed(base: Select[Any], parts: Iterable[Any]) -> Select[Any]:
    """Return the base without the LEFT JOINs that neither the parts nor the kept joins read.

    SQLite keeps an unused LEFT JOIN in an aggregate query (PostgreSQL drops it), and
    pays a lookup per row for it; the joins are along keys never NULL, so leaving one
    out changes no row.
    """
    joins = getattr(base, "_setup_joins", ())  # each .join()/.outerjoin() of the base
    needed = _tables([*parts, base.whereclause])
    kept = []
    for target, onclause, _, flags in reversed(joins):
        if flags.get("isouter") and inspect(target).selectable.name not in needed:
            continue
        needed |= _tables([onclause])
        kept.append((target, onclause, bool(flags.get("isouter"))))
    query = select().select_from(*getattr(base, "_from_obj", ()))
    for target, onclause, outer in reversed(kept):
        query = query.join(target, onclause, isouter=outer)
    return query if base.whereclause is None else query.where(base.whereclause)


def _tables(parts: Iterable[Any]) -> set[str]:
    """Return the names of the tables and aliases the expressions read."""
    return {table.name for part in parts if part is not None
            for table in find_tables(part, check_columns=True, include_aliases=True)
            if hasattr(table, "name")}


def localized(column: Any, locale: str) -> ColumnElement[Any]:
    """Return a {"en": …, "zh-CN": …} JSON column's text in the locale, else English."""
    return func.coalesce(column[normalize_locale(locale)].as_string(), column["en"].as_string())


def flag(condition: ColumnElement[bool], known: ColumnElement[bool]) -> ColumnElement[Any]:
    """Return 1 where the condition holds, 0 where it does not, NULL where it is unknown."""
    return case((and_(known, condition), 1), (known, 0), else_=None)


def project_record(stored: Any) -> tuple[Any, ColumnElement[bool]]:
    """Return an alias of the project records and the join condition on a stored project.

    ``FlowInstance.project`` holds the project record's id as text, or a free text
    for flows without a project record; the join reads the id only from digits, so
    free text matches nothing on either database.
    """
    project = aliased(Record)
    return project, and_(project.id == record_id_in(stored), project.form_key == PROJECT_FORM)


def project_fields(project: Any, stored: Any) -> list[DataField]:
    """Return the project fields: its name (else the stored text), code and stored id."""
    return [
        DataField("project", N_("Project"), "string",
                  func.coalesce(field_value(project.data, ["name"]), stored)),
        DataField("project_code", N_("Project code"), "string",
                  field_value(project.data, ["code"])),
        DataField("project_id", N_("Project id"), "string", stored),
    ]
