"""Imports of records between steps, and saving their valid rows in one go.

An uploaded sheet is read once and kept, as JSON, in a folder of pending
imports (``<instance>/imports``) under a random token, together with the id of
the user who uploaded it, the form and the chosen mapping. Only that user can
open it again, and it is forgotten after ``KEEP``; nothing about it rides in
the session cookie. ``check_references`` adds what the sheet alone cannot
tell: record numbers must name records of their form the importer may read.
Nothing becomes a record until ``save_rows``, which stores every valid row in
batches inside the caller's transaction (all or none), adds an "imported"
history row to each record, its record links, and one audit event for the import.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import time as time_now
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from andon import audit, clock
from andon.errors import NotFound
from andon.forms.excel import Cell, Report, Sheet
from andon.forms.models import Record, RecordChange
from andon.forms.record_links import save_links
from andon.forms.record_refs import check_many
from andon.forms.records import current_form, text_searcher
from andon.forms.schema import FormSpec
from andon.i18n import N_
from andon.identity.models import User

KEEP = timedelta(hours=2)
BATCH = 1000
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


@dataclass
class PendingImport:
    """An uploaded sheet waiting to be mapped, checked and confirmed."""

    token: str
    user_id: int
    form_key: str
    filename: str
    created_at: datetime
    sheet: Sheet
    mapping: list[str | None] | None = None


def keep_upload(folder: Path, user: User, form_key: str, filename: str,
                sheet: Sheet) -> PendingImport:
    """Store a read sheet for its user under a new token; forget expired ones first."""
    forget_expired(folder)
    pending = PendingImport(secrets.token_urlsafe(24), user.id, form_key, filename,
                            clock.now(), sheet)
    save_pending(folder, pending)
    return pending


def save_pending(folder: Path, pending: PendingImport) -> None:
    """Write a pending import to its file (atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    content = {"user_id": pending.user_id, "form_key": pending.form_key,
               "filename": pending.filename, "created_at": pending.created_at.isoformat(),
               "headers": pending.sheet.headers, "mapping": pending.mapping,
               "rows": [[number, [_stored(c) for c in cells]]
                        for number, cells in pending.sheet.rows]}
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".import-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(content, out, ensure_ascii=False)
    os.replace(temporary, _path(folder, pending.token))


def open_pending(folder: Path, token: str, user: User, form_key: str) -> PendingImport:
    """Return the user's pending import of this form, or NotFound if unknown, theirs or expired."""
    gone = NotFound(N_("This import has expired or is not yours. Upload the file again."))
    path = _path(folder, token) if TOKEN_RE.match(token) else None
    if path is None or not path.exists():
        raise gone
    content = json.loads(path.read_text(encoding="utf-8"))
    created = datetime.fromisoformat(content["created_at"])
    if content["user_id"] != user.id or content["form_key"] != form_key:
        raise gone
    if clock.now() - created > KEEP:
        path.unlink(missing_ok=True)
        raise gone
    rows = [(number, [_loaded(c) for c in cells]) for number, cells in content["rows"]]
    return PendingImport(token, user.id, form_key, content["filename"], created,
                         Sheet(content["headers"], rows), content["mapping"])


@contextmanager
def claimed(folder: Path, token: str) -> Iterator[None]:
    """Hold a pending import while it is saved: a second confirm finds it gone.

    Kept again if saving fails, deleted when it succeeds.
    """
    path, held = _path(folder, token), folder / f".{token}.saving"
    try:
        os.rename(path, held)  # atomic: only one request wins
    except FileNotFoundError:
        raise NotFound(N_("This import has expired or is not yours. Upload the file "
                          "again.")) from None
    try:
        yield
    except BaseException:
        os.rename(held, path)
        raise
    held.unlink(missing_ok=True)


def forget_expired(folder: Path) -> None:
    """Delete the pending imports older than KEEP."""
    if not folder.exists():
        return
    oldest = time_now() - KEEP.total_seconds()  # file ages: the real clock, not a test's
    for path in folder.glob("*.json"):
        if path.stat().st_mtime < oldest:
            path.unlink(missing_ok=True)


def _path(folder: Path, token: str) -> Path:
    """Return the file of a pending import."""
    return folder / f"{token}.json"


def _stored(cell: Cell) -> Any:
    """Return a cell as JSON: dates and times tagged so they come back typed."""
    if isinstance(cell, datetime):
        return {"datetime": cell.isoformat()}
    if isinstance(cell, date):
        return {"date": cell.isoformat()}
    if isinstance(cell, time):
        return {"time": cell.isoformat()}
    return cell


def _loaded(value: Any) -> Cell:
    """Return a stored cell as it was read."""
    if isinstance(value, dict):
        kind, text = next(iter(value.items()))
        if kind == "datetime":
            return datetime.fromisoformat(text)
        return date.fromisoformat(text) if kind == "date" else time.fromisoformat(text)
    return value  # type: ignore[no-any-return]


def check_references(session: Session, spec: FormSpec, report: Report, user: User) -> Report:
    """Move the valid rows whose record numbers name no record one may choose to the invalid."""
    errors = check_many(session, spec, [row.data for row in report.valid], user)
    for row, found in zip(report.valid, errors, strict=True):
        row.errors.update(found)
    report.invalid = sorted(report.invalid + [row for row in report.valid if row.errors],
                            key=lambda row: row.number)
    report.valid = [row for row in report.valid if not row.errors]
    return report


def save_rows(session: Session, form_key: str, rows: Sequence[Mapping[str, Any]], user: User,
              filename: str = "") -> list[int]:
    """Store already validated rows as new records in batches; return their ids in order."""
    version_id, spec = current_form(session, form_key, user)
    searchable = text_searcher(spec)
    now = clock.now()
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        batch = rows[start:start + BATCH]
        values = [{"form_key": form_key, "form_version_id": version_id, "data": dict(data),
                   "search_text": searchable(data), "created_at": now,
                   "created_by_id": user.id, "updated_at": now, "updated_by_id": user.id,
                   "lock_version": 1} for data in batch]
        new_ids = list(session.scalars(
            insert(Record).returning(Record.id, sort_by_parameter_order=True), values))
        session.execute(insert(RecordChange), [
            {"record_id": record_id, "version": 1, "kind": "imported", "at": now,
             "by_id": user.id, "changes": {name: [None, value] for name, value in data.items()}}
            for record_id, data in zip(new_ids, batch, strict=True)])
        save_links(session, spec, list(zip(new_ids, batch, strict=True)))
        ids += new_ids
    if ids:
        audit.record(session, "record.imported", "form", version_id, user.id, at=now,
                     form=form_key, count=len(ids), first=ids[0], last=ids[-1], file=filename)
    return ids
