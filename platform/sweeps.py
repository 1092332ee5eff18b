"""Daily clean-up of uploaded files that nothing ever claimed.

A file chosen in a form is stored when the form is posted, before the record or
step is saved; if the person then gives up, the upload belongs to nothing. Once
a day the worker deletes such uploads older than ``KEEP_DAYS``, unless an open
task's draft still names them (a draft keeps chosen files until the step is
completed), and removes the stored bytes when no other upload shares them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from andon import jobs
from andon.files import Attachment, UploadSettings, path_of
from andon.flows.models import Task

KIND = "files.sweep"
KEEP_DAYS = 7


def plan(session: Session, now: datetime) -> None:
    """Queue today's sweep once."""
    key = f"{KIND}:{now.date().isoformat()}"
    if session.scalar(select(jobs.WorkItem.id).where(jobs.WorkItem.key == key)) is None:
        jobs.schedule(session, KIND, key, now, {})


def handler(settings: UploadSettings | None) -> jobs.Handler:
    """Return the work item handler that sweeps the installation's upload folder (if any)."""
    def sweep(session: Session, item: jobs.WorkItem, now: datetime) -> None:
        if settings is not None:
            sweep_unclaimed(session, settings, now)
    return sweep


def sweep_unclaimed(session: Session, settings: UploadSettings, now: datetime) -> int:
    """Delete unclaimed uploads older than KEEP_DAYS that no open draft names; return how many."""
    stale = list(session.scalars(select(Attachment).where(
        Attachment.instance_id.is_(None), Attachment.task_id.is_(None),
        Attachment.record_id.is_(None),
        Attachment.uploaded_at < now - timedelta(days=KEEP_DAYS))))
    if not stale:
        return 0
    kept = _named_by_drafts(session)
    gone = [attachment for attachment in stale if str(attachment.id) not in kept]
    for attachment in gone:
        session.delete(attachment)
    session.flush()
    for digest in {attachment.sha256 for attachment in gone}:
        if session.scalar(select(Attachment.id).where(Attachment.sha256 == digest)) is None:
            path_of(settings, digest).unlink(missing_ok=True)
    return len(gone)


def _named_by_drafts(session: Session) -> set[str]:
    """Return every text an open task's draft holds (file ids among them)."""
    found: set[str] = set()
    for draft in session.scalars(select(Task.draft).where(Task.state == "open",
                                                          Task.draft.is_not(None))):
        found.update(_texts(draft))
    return found


def _texts(value: Any) -> set[str]:
    """Return the scalar texts inside a JSON value."""
    if isinstance(value, dict):
        return set().union(*(_texts(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_texts(v) for v in value)) if value else set()
    return {str(value)}
