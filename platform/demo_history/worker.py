"""The worker's due work, run at the historical moments it fell due.

History is written in one session, so the real worker (which owns its own
transactions) cannot run in it. ``catch_up`` does what it does instead, in time
order: each due timer and work item runs with the clock frozen at its due time,
through the same functions (``run_due``, ``jobs.claim``, ``jobs.perform``), so
reminders and escalations are recorded when they really happened. Mail and
chat messages of the past are not sent; other kinds are left to the real worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from andon import clock, jobs
from andon.flows import escalations, messages, waits
from andon.flows.models import FlowInstance
from andon.flows.worker import run_due
from andon.notifications.models import Notification

OWNER = "demo-history"
MAX_ROUNDS = 50000
STUCK = 20  # rounds at one moment before giving up on what is due then


def _drop(session: Session, item: jobs.WorkItem, now: datetime) -> None:
    """Send nothing (a message of the past is not sent today); mark its notification so."""
    note = session.get(Notification, item.payload.get("notification") or 0)
    if note is not None and item.kind in ("email", "chat"):
        setattr(note, f"{item.kind}_state", "off")


class _Handlers(dict[str, jobs.Handler]):
    """The history's handlers; a kind it does not know waits for the real worker."""

    def __init__(self, until: datetime) -> None:
        super().__init__({"remind": escalations.remind, "escalate": escalations.escalate,
                          waits.KIND: messages.send, "email": _drop, "chat": _drop,
                          "digest": _drop})
        self.later = until + timedelta(seconds=1)

    def __missing__(self, kind: str) -> Callable[..., None]:
        def postpone(session: Session, item: jobs.WorkItem, now: datetime) -> None:
            raise jobs.Postpone(self.later)
        return postpone


def catch_up(session: Session, until: datetime) -> int:
    """Run every timer and work item due by ``until`` at its due time; return how many ran."""
    handlers, ran, previous, again = _Handlers(until), 0, None, 0
    for _ in range(MAX_ROUNDS):
        due = _next_due(session, until)
        again = again + 1 if due == previous else 0
        if due is None or again > STUCK:  # a timer that does not move on stays for the worker
            break
        previous = due
        with clock.frozen(due):
            run_due(session, due)
            for item_id in jobs.claim(session, due, OWNER, limit=100):
                ran += _perform(session, item_id, handlers, due)
    return ran


def _next_due(session: Session, until: datetime) -> datetime | None:
    """Return the earliest due time of a running instance's timer or a pending item."""
    timer = session.scalar(select(func.min(FlowInstance.wake_at)).where(
        FlowInstance.status == "running", FlowInstance.wake_at <= until))
    item = session.scalar(select(func.min(jobs.WorkItem.due_at)).where(
        jobs.WorkItem.state == "pending", jobs.WorkItem.due_at <= until,
        or_(jobs.WorkItem.lease_until.is_(None), jobs.WorkItem.lease_until < until)))
    moments = [_aware(m) for m in (timer, item) if m is not None]
    return min(moments) if moments else None


def _aware(moment: datetime) -> datetime:
    """Return a stored time as aware UTC (SQLite hands back what was stored)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _perform(session: Session, item_id: int, handlers: _Handlers, now: datetime) -> int:
    """Perform one claimed item in a savepoint; a failure is recorded on the item."""
    savepoint = session.begin_nested()
    try:
        done = jobs.perform(session, item_id, handlers, now, OWNER)
        savepoint.commit()
        return int(done)
    except Exception as error:  # as the worker: a failed item must not stop the history
        savepoint.rollback()
        jobs.record_failure(session, item_id, error, now, OWNER, temporary=False)
        return 0
