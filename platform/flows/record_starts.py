"""Flows started for new records: a form's setting ``"records": {"start_flow": "<flow>"}``.

A form whose layout names a flow there starts that flow's published version
for every record created from the form's page or imported from Excel, as the
person who created it. The start form takes, by name, the record's fields it
declares; its record fields that point at the record's form get the new
record's number, and its ``title`` (when the record has none) the record's
title. Starting is part of the same transaction as the records: an import whose
row does not start refuses the whole file (``RowNotStarted``, naming the row
and the field) and nothing is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from andon.errors import AndonError, InvalidSubmission
from andon.flows import runtime
from andon.flows.follow_ups import form_text
from andon.flows.models import FlowInstance
from andon.forms.models import Record
from andon.forms.record_refs import title as record_title
from andon.forms.schema import FormSpec
from andon.forms.widgets_records import WIDGET, target_form
from andon.i18n import N_, Message
from andon.identity.models import User

PLACEHOLDER_ID = "1"  # stands for a record not saved yet when rows are checked


class RowNotStarted(AndonError):
    """A record's flow did not start: ``row`` (its sheet row, if any), ``field``, ``error``."""

    def __init__(self, row: int | None, field: str, error: Message) -> None:
        self.row, self.field, self.error = row, field, error
        super().__init__(N_("Row %(row)s, field %(field)s: %(error)s"), row=row or "-",
                         field=field, error=error.render())


def flow_of(spec: FormSpec) -> str | None:
    """Return the key of the flow the form starts for each new record, if it names one."""
    rules = spec.layout.get("records", {})
    key = rules.get("start_flow") if isinstance(rules, dict) else None
    return key if isinstance(key, str) and key else None


def start_data(start: FormSpec, spec: FormSpec, record_id: int | None,
               data: Mapping[str, Any]) -> dict[str, str]:
    """Return the start form values for a record: its fields by name, and links to it."""
    values = {name: form_text(value) for name, value in data.items()
              if name in start.properties and value not in (None, "", [])}
    for name, prop in start.properties.items():
        if target_form(prop, start.field_layout(name)) == spec.key and \
                start.field_layout(name).get("widget") == WIDGET:
            values[name] = str(record_id) if record_id is not None else PLACEHOLDER_ID
    if "title" in start.properties and "title" not in values and record_id is not None:
        values["title"] = record_title(spec, record_id, data, "en")[:300]
    return values


def start_for(session: Session, spec: FormSpec, record: Record, user: User,
              row: int | None = None) -> FlowInstance | None:
    """Start the form's flow for a new record, if it names one; RowNotStarted if it cannot."""
    flow_key = flow_of(spec)
    if flow_key is None:
        return None
    data = start_data(runtime.start_form(session, flow_key), spec, record.id, record.data)
    try:
        return runtime.start_instance(session, flow_key, user, data)
    except InvalidSubmission as invalid:
        field, error = next(iter(invalid.errors.items()))
        raise RowNotStarted(row, field, error) from None


def start_all(session: Session, spec: FormSpec, records: Sequence[tuple[int, Record]],
              user: User) -> list[FlowInstance]:
    """Start the form's flow for each (sheet row, record); the first that fails stops all."""
    started = [start_for(session, spec, record, user, row) for row, record in records]
    return [instance for instance in started if instance is not None]


def check_rows(session: Session, spec: FormSpec, rows: Sequence[Mapping[str, Any]],
               user: User) -> list[dict[str, Message]]:
    """Return, per row, the errors its flow's start form would give; empty without a flow."""
    flow_key = flow_of(spec)
    if flow_key is None:
        return [{} for _ in rows]
    found: list[dict[str, Message]] = []
    start = runtime.start_form(session, flow_key)
    for data in rows:
        try:
            runtime.check_start(session, flow_key, user, start_data(start, spec, None, data))
            found.append({})
        except InvalidSubmission as invalid:
            found.append(dict(invalid.errors))
    return found
