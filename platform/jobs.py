"""Work items: things to do at a time, claimed by one worker at a time.

A work item is scheduled under an idempotency key: scheduling the same key
twice keeps one item, so a reminder or escalation can never be queued twice.
Workers claim due items with a lease (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite); an item whose worker died is
claimed again when its lease runs out. Execution is therefore at least once;
each handler's database effects commit together with the item's "done", and
external effects (email) carry the key so receivers can drop duplicates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, or_, select, text, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from andon.database import Base, insert_once, utcnow

MAX_ATTEMPTS = 5
LEASE = timedelta(minutes=5)

Handler = Callable[[Session, "WorkItem", datetime], None]


class Postpone(Exception):
    """Raised by a handler when its item cannot run yet; it runs again at ``until``."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(until.isoformat())


class WorkItem(Base):
    """One thing to do at a time: a reminder, an escalation, an email."""

    __tablename__ = "work_item"
    __table_args__ = (Index("ix_work_item_state_due", "state", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200), unique=True)
    due_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("flow_instance.id"), index=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id"), index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]


def schedule(session: Session, kind: str, key: str, due_at: datetime,
             payload: dict[str, Any] | None = None, *, instance_id: int | None = None,
             task_id: int | None = None) -> WorkItem:
    """Queue a work item under a key; an item with the same key already queued wins."""
    item, _ = insert_once(
        session, WorkItem(kind=kind, key=key, due_at=due_at, payload=payload or {},
                          instance_id=instance_id, task_id=task_id),
        lambda: session.scalar(select(WorkItem).where(WorkItem.key == key)))
    return item  # type: ignore[no-any-return]


def cancel_for_task(session: Session, task_id: int) -> int:
    """Cancel the pending items of a task that is no longer open; return how many."""
    result = session.execute(update(WorkItem)
                             .where(WorkItem.task_id == task_id, WorkItem.state == "pending")
                             .values(state="cancelled"))
    return int(getattr(result, "rowcount", 0) or 0)


def claim(session: Session, now: datetime, owner: str, limit: int = 20,
          lease: timedelta = LEASE) -> list[int]:
    """Lease due items to one worker run (``owner``) and return their ids; the caller commits.

    On SQLite it opens the write transaction with BEGIN IMMEDIATE, so that one
    claimer runs at a time, unless the session already writes in one.
    """
    if session.get_bind().dialect.name == "sqlite" and not _in_transaction(session):
        session.execute(text("BEGIN IMMEDIATE"))
    query = (select(WorkItem.id)
             .where(WorkItem.state == "pending", WorkItem.due_at <= now,
                    or_(WorkItem.lease_until.is_(None), WorkItem.lease_until < now))
             .order_by(WorkItem.due_at, WorkItem.id).limit(limit)
             .with_for_update(skip_locked=True))
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(WorkItem).where(WorkItem.id.in_(ids))
                        .values(lease_until=utcnow() + lease, lease_owner=owner,
                                attempts=WorkItem.attempts + 1))
    return ids


def _in_transaction(session: Session) -> bool:
    """Tell whether the session's SQLite connection is inside a transaction already."""
    driver = session.connection().connection.driver_connection
    return bool(getattr(driver, "in_transaction", False))


def perform(session: Session, item_id: int, handlers: Mapping[str, Handler],
            now: datetime, owner: str, lease: timedelta = LEASE) -> bool:
    """Run one claimed item's handler and mark it done; the caller commits.

    The lease is renewed first, only if this run still holds it: a run so slow
    that its lease ran out (and another worker took the item) does nothing.
    """
    moment = utcnow()
    renewed = session.execute(
        update(WorkItem).where(WorkItem.id == item_id, WorkItem.state == "pending",
                               WorkItem.lease_owner == owner, WorkItem.lease_until > moment)
        .values(lease_until=moment + lease))
    if not getattr(renewed, "rowcount", 0):
        return False
    item = session.get(WorkItem, item_id)
    if item is None:
        return False
    try:
        handlers[item.kind](session, item, now)
    except Postpone as later:
        item.due_at, item.lease_until = later.until, None
        session.flush()
        return False
    item.state, item.done_at, item.lease_until, item.lease_owner = "done", now, None, None
    session.flush()
    return True


def record_failure(session: Session, item_id: int, error: BaseException, now: datetime,
                   owner: str, temporary: bool = True) -> WorkItem | None:
    """Schedule a retry with backoff, or give up after MAX_ATTEMPTS; the caller commits."""
    item = session.get(WorkItem, item_id)
    if item is None or item.lease_owner != owner:
        return None
    item.last_error = f"{type(error).__name__}: {error}"[:2000]
    item.lease_until = item.lease_owner = None
    if temporary and item.attempts < MAX_ATTEMPTS:
        item.due_at = now + timedelta(minutes=2 ** item.attempts)
    else:
        item.state = "failed"
    session.flush()
    return item
