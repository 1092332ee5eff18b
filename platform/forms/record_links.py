"""The links between records, both ways: kept on every save, read for a record's page.

``save_links`` replaces the ``record_link`` rows of the records just saved with
the references their data holds (``andon.forms.record_refs.references``);
``records.create_record``, ``records.update_record`` and the Excel import
(``record_imports.save_rows``) all call it, so the table never disagrees with
the JSON. A reference to a record that does not exist, or is of another form,
gets no row. ``links_to`` and ``linked_from`` read one direction each and keep
only the records the reader may read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from andon.forms.models import Record, RecordLink
from andon.forms.record_access import published_spec, spec_at
from andon.forms.record_refs import has_references, path_label, references, titles
from andon.forms.schema import FormSpec
from andon.identity.models import User

MAX_SHOWN = 200


@dataclass(frozen=True)
class Link:
    """One link as a record's page lists it: which field, and the record at the other end."""

    field: str
    path: str
    record_id: int
    form_key: str
    form_title: str
    title: str


def save_links(session: Session, spec: FormSpec,
               saved: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Replace the outgoing links of each (record id, data) with the references of its data."""
    if not saved or not has_references(spec):  # its records never had links: nothing to clear
        return
    session.execute(delete(RecordLink).where(RecordLink.source_id.in_([i for i, _ in saved])))
    wanted = [(record_id, ref) for record_id, data in saved for ref in references(spec, data)]
    if not wanted:
        return
    forms = dict(session.execute(select(Record.id, Record.form_key).where(
        Record.id.in_({ref.id for _, ref in wanted}))).all())
    rows = [{"source_id": record_id, "field_path": ref.path, "target_id": ref.id}
            for record_id, ref in wanted if forms.get(ref.id) == ref.form]
    if rows:
        session.execute(insert(RecordLink), rows)


def links_to(session: Session, record: Record, user: User, locale: str,
             translate: Callable[[str], str] = str) -> list[Link]:
    """Return the records this record's fields point at that the user may read, in field order."""
    rows = session.execute(select(RecordLink.field_path, RecordLink.target_id)
                           .where(RecordLink.source_id == record.id)).all()
    spec = spec_at(session, record.form_version_id)
    order = {name: index for index, name in enumerate(spec.order())}
    rows = sorted(rows, key=lambda row: (order.get(row[0].split("[")[0], len(order)), row[0]))
    return _links([(path, target, spec) for path, target in rows], session, user, locale,
                  translate)


def linked_from(session: Session, record: Record, user: User, locale: str,
                translate: Callable[[str], str] = str) -> list[Link]:
    """Return the records of any form that point at this record and that the user may read."""
    rows = session.execute(
        select(RecordLink.field_path, RecordLink.source_id, Record.form_version_id)
        .join(Record, Record.id == RecordLink.source_id)
        .where(RecordLink.target_id == record.id)
        .order_by(RecordLink.source_id.desc(), RecordLink.field_path)
        .limit(MAX_SHOWN)).all()
    specs: dict[int, FormSpec] = {}
    for _, _, version_id in rows:
        specs.setdefault(version_id, spec_at(session, version_id))
    return _links([(path, source, specs[version]) for path, source, version in rows],
                  session, user, locale, translate)


def _links(rows: Sequence[tuple[str, int, FormSpec]], session: Session, user: User,
           locale: str, translate: Callable[[str], str]) -> list[Link]:
    """Return the links of (field path, other record id, spec holding the field) one may read."""
    known = titles(session, {other for _, other, _ in rows}, user, locale, translate)
    forms: dict[str, str] = {}
    links = []
    for path, other, spec in rows:
        found = known.get(other)
        if found is None:
            continue
        if found.form_key not in forms:
            published = published_spec(session, found.form_key)
            forms[found.form_key] = published.title_in(locale) if published else found.form_key
        links.append(Link(path_label(spec, path, locale), path, other, found.form_key,
                          forms[found.form_key], found.title))
    return links
