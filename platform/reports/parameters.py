"""Reader parameters: what a report's reader chooses (date range, flow, project, org unit).

A definition declares its parameters; the reader's text values are checked
here and become typed conditions on the parameter's field, whose values reach
the database only as bound parameters. A date range is whole days in the
installation's time zone: from the start of its first day to the end of its last.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import catalog, temporal
from andon.errors import AndonError
from andon.flows.models import FlowInstance
from andon.forms.jsonsql import field_value
from andon.i18n import N_, localize
from andon.identity.models import OrgUnit
from andon.reports.definition import PARAMETER_FIELDS, ReportSpec
from andon.reports.fields import project_record

LABELS = {"date_range": N_("Period"), "flow": N_("Flow"), "project": N_("Project"),
          "org_unit": N_("Org unit")}


class InvalidParameters(AndonError):
    """A reader's parameter values cannot be used; ``errors`` maps input name to Message."""

    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors
        super().__init__(N_("Please correct the report's parameters."))


@dataclass(frozen=True)
class Parameter:
    """One declared parameter, the field it binds to and the reader's values."""

    key: str
    type: str
    field: str
    label: str
    values: dict[str, str]


def declared(spec: ReportSpec, raw: Mapping[str, str], today: date | None = None,
             locale: str = "en") -> list[Parameter]:
    """Return the report's parameters with the reader's values, or each one's default.

    A parameter's label is the definition's, in the locale, else a msgid to translate.
    """
    return declare(spec.body.get("parameters", []), raw, today, locale)


def declare(items: list[dict[str, Any]], raw: Mapping[str, str], today: date | None = None,
            locale: str = "en") -> list[Parameter]:
    """Return declared parameters (a report's or a dashboard's) with the reader's values."""
    today = today or temporal.today()
    found = []
    for item in items:
        kind, key = item["type"], item["key"]
        label = localize(item["label"], locale) if "label" in item else LABELS[kind]
        field = item.get("field") or PARAMETER_FIELDS.get(kind, "")
        if kind == "date_range":
            names = (f"{key}_from", f"{key}_to")
            given = {name: (raw.get(name) or "").strip() for name in names}
            if names[0] not in raw and names[1] not in raw and item.get("default"):
                start, end = preset(item["default"], today)
                given = {names[0]: start.isoformat(), names[1]: end.isoformat()}
            found.append(Parameter(key, kind, field, label, given))
        else:
            found.append(Parameter(key, kind, field, label, {key: (raw.get(key) or "").strip()}))
    return found


def preset(name: str, today: date) -> tuple[date, date]:
    """Return the first and last day of a named range ending today or containing today."""
    if name == "this_month":
        return today.replace(day=1), today
    if name == "this_quarter":
        return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
    if name == "this_year":
        return date(today.year, 1, 1), today
    days = 30 if name == "last_30_days" else 90
    return today - timedelta(days=days - 1), today


def conditions(parameters: list[Parameter]) -> list[dict[str, Any]]:
    """Return the conditions the readers' values make, raising on values that are not valid."""
    errors: dict[str, Any] = {}
    found: list[dict[str, Any]] = []
    for parameter in parameters:
        if parameter.type != "date_range":
            value = next(iter(parameter.values.values()))
            if value:
                found.append({"field": parameter.field, "op": "eq", "value": value})
            continue
        days: list[date | None] = []
        for name, text in parameter.values.items():
            try:
                days.append(date.fromisoformat(text) if text else None)
            except ValueError:
                errors[name] = N_("Enter a date as YYYY-MM-DD.")
                days.append(None)
        start, end = days
        if start and end and end < start:
            errors[f"{parameter.key}_to"] = N_("The end comes before the start.")
        zone = temporal.current_zone()
        if start:
            found.append({"field": parameter.field, "op": "ge",
                          "value": datetime.combine(start, time(), zone)})
        if end:
            found.append({"field": parameter.field, "op": "lt",
                          "value": datetime.combine(end + timedelta(days=1), time(), zone)})
    if errors:
        raise InvalidParameters(errors)
    return found


def projects(session: Session) -> list[tuple[str, str]]:
    """Return the projects instances belong to: (stored value, code and name), by label."""
    stored = (select(FlowInstance.project.label("value")).distinct()
              .where(FlowInstance.project.is_not(None)).subquery())
    project, on_project = project_record(stored.c.value)
    query = (select(stored.c.value, field_value(project.data, ["code"]),
                    field_value(project.data, ["name"]))
             .select_from(stored).outerjoin(project, on_project))
    found = [(str(stored), " · ".join(part for part in (code, name) if part) or str(stored))
             for stored, code, name in session.execute(query) if stored]
    return sorted(found, key=lambda pair: (pair[1].casefold(), pair[0]))


def choices(session: Session, spec: ReportSpec, locale: str) -> dict[str, list[tuple[str, str]]]:
    """Return, for each flow, project and org unit parameter, its (value, label) choices."""
    return choices_of(session, spec.body.get("parameters", []), locale)


def choices_of(session: Session, items: list[dict[str, Any]],
               locale: str) -> dict[str, list[tuple[str, str]]]:
    """Return the (value, label) choices of declared flow, project and org unit parameters."""
    found: dict[str, list[tuple[str, str]]] = {}
    for item in items:
        if item["type"] == "flow":
            found[item["key"]] = [(v.definition.key, localize(v.title, locale))
                                  for v in catalog.published(session, "flow")]
        elif item["type"] == "project":
            found[item["key"]] = projects(session)
        elif item["type"] == "org_unit":
            found[item["key"]] = [(u.key, u.name) for u in
                                  session.scalars(select(OrgUnit).order_by(OrgUnit.name))]
    return found
