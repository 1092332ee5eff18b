"""Files chosen in a form's file fields: kept outside the row, referenced by id, claimed once.

A file chosen in a file field (``andon.forms.widgets_files``) is checked
against the field's size and types, kept by ``andon.files`` (the bytes on
disk, named by their SHA-256) and described by an ``Attachment`` row naming
the field. The record stores the attachment's id as the field's value (an
array of ids for ``"multiple": true``). On save, ``check`` lets a record hold
an id only if it held it before, or if the saving user uploaded that file in
that field and no record holds it yet; ``link`` then marks the files as the
record's, so nobody can point another record at them. Task and start forms do
the same with the flow instance (``andon.flows.runtime``): the files then join
the instance's attachments, which whoever may see the instance downloads. Files the user chose
but never saved stay unclaimed (nobody can download them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import files
from andon.forms.models import Record
from andon.forms.nodes import Fields, walk
from andon.forms.schema import FormSpec
from andon.forms.widgets_files import WIDGET, FileRules
from andon.i18n import N_, Message
from andon.identity.models import User

# Shown on the field and, after its label, in the form's error summary.
REFUSED_SIZE = N_("“%(file)s” was not attached: it is larger than the limit of %(limit)s.")
REFUSED_TYPE = N_("“%(file)s” was not attached: files of type %(type)s are not accepted here. "
                  "Accepted: %(accept)s.")
REFUSED_EMPTY = N_("“%(file)s” was not attached: it is empty.")
NOT_YOURS = N_("Choose the file again: file %(id)s is not one you chose in this field.")


def fields_of(spec: FormSpec) -> dict[str, FileRules]:
    """Return the rules of every file field of a form, by field name, in layout order."""
    return {name: FileRules.of(spec.field_layout(name)) for name in spec.order()
            if spec.field_layout(name).get("widget") == WIDGET}


def ids_of(value: Any) -> list[str]:
    """Return the attachment ids a stored or typed file field value names."""
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if isinstance(v, (str, int)) and str(v).isdigit()]


def receive(session: Session, settings: files.UploadSettings, spec: FormSpec, name: str,
            stream: BinaryIO, filename: str, user: User) -> files.Attachment:
    """Check a file chosen in field ``name`` and keep it; raise FileRefused if it does not fit.

    The field's types narrow the installation's; its size limit never exceeds the
    installation's (``settings``).
    """
    rules, clean = fields_of(spec)[name], files.clean_name(filename)
    ext = files.extension(clean)
    if ext not in settings.types or not rules.accepts(ext, files.content_type(clean)):
        accepted = rules.accept or tuple(f".{t}" for t in sorted(settings.types))
        raise files.FileRefused(REFUSED_TYPE, file=clean, type=f".{ext}" if ext else "(none)",
                                accept=", ".join(accepted))
    limit = rules.limit(settings.max_bytes)
    within = files.UploadSettings(folder=settings.folder, max_bytes=limit, types=settings.types)
    try:
        return files.store(session, within, stream, filename, user, field=name)
    except files.FileRefused as refused:
        if "limit" in refused.message.params:
            raise files.FileRefused(REFUSED_SIZE, file=clean,
                                    limit=files.readable_size(limit)) from None
        raise files.FileRefused(REFUSED_EMPTY, file=clean) from None


def check(session: Session, spec: FormSpec, data: Mapping[str, Any], user: User | None,
          previous: Mapping[str, Any] | None = None) -> dict[str, Message]:
    """Return a Message per file field naming a file the record (or instance) may not hold.

    A record keeps the files it held (``previous``: its data, or the instance's);
    a new one must be the user's own upload in that field that nothing holds yet.
    """
    errors = {}
    for name in fields_of(spec):
        before = set(ids_of((previous or {}).get(name)))
        for file_id in ids_of(data.get(name)):
            if file_id in before:
                continue
            found = session.get(files.Attachment, int(file_id))
            if found is None or user is None or found.uploaded_by_id != user.id \
                    or found.field != name or found.record_id is not None \
                    or found.instance_id is not None:
                errors[name] = Message(NOT_YOURS, {"id": file_id})
                break
    return errors


def link(session: Session, spec: FormSpec, data: Mapping[str, Any], *,
         record_id: int | None = None, instance_id: int | None = None,
         task_id: int | None = None) -> None:
    """Mark the files saved data holds, that nothing holds yet, as a record's or an instance's."""
    wanted = [int(i) for name in fields_of(spec) for i in ids_of(data.get(name))]
    if not wanted:
        return
    for attachment in session.scalars(select(files.Attachment)
                                      .where(files.Attachment.id.in_(wanted))):
        if attachment.record_id is None and attachment.instance_id is None:
            attachment.record_id, attachment.instance_id = record_id, instance_id
            attachment.task_id = task_id
    session.flush()


def of_record(session: Session, spec: FormSpec, record: Record,
              locale: str = "en") -> list[tuple[str, list[files.Attachment]]]:
    """Return (label, files) of each file field of a record that holds files."""
    rows = by_id(session, [i for name in fields_of(spec) for i in ids_of(record.data.get(name))])
    listed = []
    for name in fields_of(spec):
        held = [rows[i] for i in ids_of(record.data.get(name))
                if i in rows and rows[i].record_id == record.id]
        if held:
            listed.append((spec.label(name, locale), held))
    return listed


def held_by(session: Session, spec: FormSpec, record: Record,
            attachment_id: int) -> files.Attachment | None:
    """Return the attachment if the record holds it now in one of its file fields, else None."""
    held = {i for name in fields_of(spec) for i in ids_of(record.data.get(name))}
    found = session.get(files.Attachment, attachment_id) if str(attachment_id) in held else None
    return found if found is not None and found.record_id == record.id else None


def pickers(spec: FormSpec, built: Fields) -> Fields:
    """Mark a form with file fields as multipart and give each file field its rules and ids.

    The web layer adds the names of the chosen files the reader may see
    (``andon.web.uploads.describe``): an id typed into a post must not reveal a name.
    """
    names = fields_of(spec)
    if not names:
        return built
    built.multipart = True
    for node in walk(list(built)):
        if node.node == "field" and node.widget == WIDGET and node.name in names:
            rules = names[node.name]
            node.extra = {"ids": ids_of(node.chosen if rules.multiple else node.value),
                          "files": [], "multiple": rules.multiple,
                          "accept": ",".join(rules.accept), "max_bytes": rules.max_bytes}
    return built


def by_id(session: Session, ids: list[str]) -> dict[str, files.Attachment]:
    """Return the attachments with these ids, by id as text."""
    if not ids:
        return {}
    rows = session.scalars(select(files.Attachment)
                           .where(files.Attachment.id.in_([int(i) for i in ids])))
    return {str(row.id): row for row in rows}


def readable(session: Session, spec: FormSpec, data: Mapping[str, Any],
             translate: Callable[[str], str] = str) -> dict[str, Any]:
    """Return the data with every file field's ids replaced by the files' names."""
    shown = dict(data)
    for name in fields_of(spec):
        ids = ids_of(data.get(name))
        if ids:
            rows = by_id(session, ids)
            shown[name] = ", ".join(rows[i].filename if i in rows else f"#{i}" for i in ids)
    return shown
