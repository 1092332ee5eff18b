"""Records: every form defines a record type; create, edit with optimistic locking, history.

A record keeps the form version it was created with: edits are validated
against that version, never silently against a newer one. Each edit names the
``lock_version`` it started from; if someone saved in between,
``StaleRecord`` carries their current values and nothing is overwritten.
Every creation and change is a ``RecordChange`` row (which fields, from what
to what) and an ``andon.audit`` event.

Who may do what (one rule, written in ``andon.forms.record_access`` and checked here, so
the web and flow connectors share it; the published form version's layout decides, so a
changed rule covers old records too):
- reading and creating: every signed-in user, unless the form's layout names
  ``"records": {"readers": [roles]}``; then only holders of those roles (and admins);
- editing: the record's creator, admins, and holders of the roles in the
  layout's ``"records": {"editors": [roles]}`` - always among the readers.

A record-reference field (``"widget": "record"``, ``andon.forms.record_refs``)
stores the referenced record's id in the JSON; every save (and every Excel
import) refreshes the ``record_link`` rows of the record, so "links to" and
"linked from" are one indexed query each (``andon.forms.record_links``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from andon import audit, catalog
from andon.database import utcnow
from andon.errors import Conflict, Forbidden, InvalidSubmission, NotFound
from andon.forms import file_fields, widget_rules
from andon.forms.fields import options, supported
from andon.forms.models import Record, RecordChange
from andon.forms.record_access import may_read, record_rules, rules_spec
from andon.forms.record_links import save_links
from andon.forms.record_refs import validate_references
from andon.forms.schema import FormSpec
from andon.forms.store import form_spec_at
from andon.forms.validation import validate
from andon.forms.widgets_people import validate_keys
from andon.i18n import N_
from andon.identity.models import User

LOCALES = ("en", "zh-CN")


class StaleRecord(Conflict):
    """Someone saved the record after the editor opened it; their values are attached."""

    def __init__(self, record: Record) -> None:
        self.current: dict[str, Any] = dict(record.data)
        self.version = record.lock_version
        self.updated_by = record.updated_by.display_name
        self.updated_at: datetime = record.updated_at
        super().__init__(N_("%(name)s changed this record while you were editing it. Their "
                            "values are shown next to yours; nothing of yours was saved yet."),
                         name=self.updated_by)


def may_edit(spec: FormSpec, record: Record, user: User) -> bool:
    """Tell whether the user may change this record."""
    editors = record_rules(spec)["editors"]
    return may_read(spec, user) and (record.created_by_id == user.id
                                     or user.has_role("admin", *editors))


def current_form(session: Session, form_key: str, user: User) -> tuple[int, FormSpec]:
    """Return the published version id and spec of a form whose records the user may read."""
    version = catalog.current(session, "form", form_key)
    spec = FormSpec(**version.content)
    if not may_read(spec, user):
        raise Forbidden(N_("You may not see the records of %(form)s."), form=spec.title)
    return version.id, spec


def readable_forms(session: Session, user: User) -> list[tuple[str, FormSpec]]:
    """Return (key, spec) of every published form whose records the user may read."""
    specs = [FormSpec(**v.content) for v in catalog.published(session, "form")]
    return [(spec.key, spec) for spec in specs if may_read(spec, user)]


def get_record(session: Session, record_id: int, user: User) -> Record:
    """Return a record the user may read, or raise NotFound or Forbidden."""
    record = session.get(Record, record_id)
    if record is None:
        raise NotFound(N_("There is no record %(id)s."), id=record_id)
    if not may_read(rules_spec(session, record), user):
        raise Forbidden(N_("You may not see record %(id)s."), id=record_id)
    return record


def record_spec(session: Session, record: Record) -> FormSpec:
    """Return the form as it was in the version the record was created with."""
    return form_spec_at(session, record.form_version_id)


def create_record(session: Session, form_key: str, data: Mapping[str, Any],
                  user: User) -> Record:
    """Validate typed data against the published form and store it as a new record."""
    version_id, spec = current_form(session, form_key, user)
    values = _valid(session, spec, data, user)
    now = utcnow()
    record = Record(form_key=form_key, form_version_id=version_id, data=values,
                    search_text=search_text(spec, values), created_at=now,
                    created_by_id=user.id, updated_at=now, updated_by_id=user.id)
    session.add(record)
    session.flush()
    save_links(session, spec, [(record.id, values)])
    file_fields.link(session, spec, record.data, record_id=record.id)
    changes = {name: [None, value] for name, value in values.items()}
    _log(session, record, "created", user, changes)
    return record


def update_record(session: Session, record_id: int, data: Mapping[str, Any], user: User,
                  expected_version: int, by_flow: bool = False) -> Record:
    """Replace a record's data if nobody saved it since ``expected_version``; else StaleRecord.

    ``by_flow``: a published flow's service step changes the record on the user's
    behalf (the administrator who published the flow allowed it), so the user
    need not be one of the record's editors; the history still names the user.
    """
    record = _locked(session, record_id)
    if not by_flow and not may_edit(rules_spec(session, record), record, user):
        raise Forbidden(N_("Only the person who created record %(id)s, or an administrator, "
                           "may change it."), id=record_id)
    if record.lock_version != expected_version:
        raise StaleRecord(record)
    spec = record_spec(session, record)
    values = _valid(session, spec, data, user, record.data)
    changes = diff(record.data, values)
    if not changes:
        return record
    record.data, record.search_text = values, search_text(spec, values)
    record.updated_at, record.updated_by_id = utcnow(), user.id
    try:
        session.flush()
    except StaleDataError:  # saved by another writer between our read and our write
        raise Conflict(N_("Someone saved record %(id)s at the same moment, so nothing was "
                          "changed. Open it again to see their values."), id=record_id) from None
    save_links(session, spec, [(record.id, values)])
    file_fields.link(session, spec, record.data, record_id=record.id)
    _log(session, record, "updated", user, changes)
    return record


def _locked(session: Session, record_id: int) -> Record:
    """Return the record, its row locked for this transaction on PostgreSQL."""
    cached = session.identity_map.get(identity_key(Record, record_id))
    if cached is not None:  # forget what this session saw: someone may have saved since
        session.expire(cached)
    record = session.get(Record, record_id, with_for_update=True)
    if record is None:
        raise NotFound(N_("There is no record %(id)s."), id=record_id)
    return record


def _valid(session: Session, spec: FormSpec, data: Mapping[str, Any], user: User,
           previous: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the data as a plain dict, or raise InvalidSubmission with each field's error.

    Picked users, groups and org units must exist (a deactivated user may stay);
    referenced records must exist and be readable by the user (or be unchanged);
    files must be the record's already or the user's own new uploads.
    """
    values = widget_rules.settle(spec, data)  # computed values are the server's
    errors = {**validate_keys(session, spec, values, previous),
              **validate_references(session, spec, values, user, previous),
              **file_fields.check(session, spec, values, user, previous),
              **validate(spec, values)}
    if errors:
        raise InvalidSubmission(errors, values)
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """Return {field: [before, after]} for every field whose value changed."""
    names = list(before) + [name for name in after if name not in before]
    return {name: [before.get(name), after.get(name)] for name in names
            if before.get(name) != after.get(name)}


def _log(session: Session, record: Record, kind: str, user: User,
         changes: dict[str, list[Any]]) -> None:
    """Add the history row and the audit event of a creation or change."""
    session.add(RecordChange(record_id=record.id, version=record.lock_version, kind=kind,
                             at=record.updated_at, by_id=user.id, changes=changes))
    audit.record(session, f"record.{kind}", "record", record.id, user.id, at=record.updated_at,
                 form=record.form_key, version=record.lock_version, fields=sorted(changes))


def history(record_id: int) -> Select[RecordChange]:
    """Return the query of a record's changes, newest first."""
    return (select(RecordChange).where(RecordChange.record_id == record_id)
            .order_by(RecordChange.id.desc()))


def search_text(spec: FormSpec, data: Mapping[str, Any]) -> str:
    """Return the lower-cased text a search looks in: values, and option labels in each language."""
    return text_searcher(spec)(data)


def text_searcher(spec: FormSpec) -> Callable[[Mapping[str, Any]], str]:
    """Return ``search_text`` for one form, its option labels read once (an import's rows)."""
    labels = {name: [dict(options(prop, spec.field_layout(name), locale)) for locale in LOCALES]
              for name, kind, prop in supported(spec) if kind == "enum"}
    attachments = file_fields.fields_of(spec)  # attachment ids are nothing to search for

    def searchable(data: Mapping[str, Any]) -> str:
        parts = []
        for name, value in data.items():
            if name in attachments:
                continue
            parts += [by_value.get(_text(value), "") for by_value in labels.get(name, [])]
            parts.append(_text(value))
        return "\n".join(p for p in parts if p).casefold()
    return searchable


def _text(value: Any) -> str:
    """Return a JSON value as the text a person would search for."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False) if value is not None else ""

