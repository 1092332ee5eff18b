"""Why a task was late: a code of the installation's one cause taxonomy and an optional note.

A task completed after its due time carries a cause (``Task.cause``, a code of
the taxonomy named by the ``ANDON_CAUSE_TAXONOMY`` setting, ``causes`` unless
set) and a note. The task page asks for it and refuses to complete an overdue
task without it; the runtime keeps it optional, so API callers, escalations and
older scripts still complete late tasks. Only the ends of the tree may be
chosen, and only codes that are not retired. A cause can be recorded on an open
overdue task before it is completed, and each recording goes to the instance's
timeline (``task.cause``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from andon import audit
from andon.database import utcnow
from andon.errors import InvalidSubmission, NotFound
from andon.flows.models import Task
from andon.forms import taxonomies
from andon.forms.taxonomy_fields import Hint, refusal
from andon.i18n import N_, Message
from andon.identity.models import User

DEFAULT_TAXONOMY = "causes"
FIELD, NOTE = "cause", "cause_note"
MAX_NOTE = 2000
_setting = {"taxonomy": DEFAULT_TAXONOMY}


def use_taxonomy(key: str) -> None:
    """Use the taxonomy named ``key`` for causes (the installation's setting)."""
    _setting["taxonomy"] = key or DEFAULT_TAXONOMY


def taxonomy_key() -> str:
    """Return the key of the installation's cause taxonomy."""
    return _setting["taxonomy"]


def is_late(task: Task, now: datetime | None = None) -> bool:
    """Tell whether a task is (or was, once completed) past its due time."""
    if task.due_at is None or task.state == "cancelled":
        return False
    moment = task.completed_at or now or utcnow()
    return _aware(moment) > _aware(task.due_at)


def _aware(moment: datetime) -> datetime:
    """Return an instant with its zone (SQLite gives back naive UTC)."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def checked(session: Session, code: str | None, note: str | None) -> tuple[str, str | None]:
    """Return the cause and note as stored, or raise InvalidSubmission naming the field."""
    values = {FIELD: code or "", NOTE: note or ""}
    code, note = (code or "").strip(), (note or "").strip() or None
    if not code:
        raise InvalidSubmission({FIELD: Message(N_("Choose why this task is late (Cause)."))},
                                values)
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidSubmission({NOTE: Message(N_("Keep the note under %(count)s characters."),
                                               {"count": MAX_NOTE})}, values)
    try:
        tree = taxonomies.current(session, taxonomy_key())
    except NotFound as missing:
        raise InvalidSubmission({FIELD: missing.message}, values) from None
    problem = refusal(tree, Hint(taxonomy_key()), code)
    if problem is not None:
        raise InvalidSubmission({FIELD: problem}, values)
    return code, note


def record(session: Session, task: Task, user: User | None, code: str | None,
           note: str | None) -> None:
    """Store why a late task is late on the task, and put it on the instance's timeline."""
    if not is_late(task):
        raise InvalidSubmission({FIELD: Message(N_(
            "This task is not past its due time; it needs no cause."))},
            {FIELD: code or "", NOTE: note or ""})
    task.cause, task.cause_note = checked(session, code, note)
    task.instance.updated_at = utcnow()
    audit.record(session, "task.cause", "instance", task.instance_id,
                 user.id if user else None, task=task.id, step=task.step_id,
                 step_title=task.step_title, cause=task.cause, reason=task.cause_note or "")
    session.flush()


def record_cause(session: Session, task_id: int, user: User, code: str | None,
                 note: str | None = None) -> Task:
    """Record why an open overdue task is late, before it is completed, as its owner."""
    from andon.flows.runtime import one_writer, open_task

    task = open_task(session, task_id, user)
    with one_writer():
        record(session, task, user, code, note)
    return task


def label(session: Session, code: str | None, locale: str) -> str:
    """Return a stored cause as readers see it: its path in the taxonomy."""
    if not code:
        return ""
    return taxonomies.label(session, taxonomy_key(), code, locale)
