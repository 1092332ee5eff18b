"""Notify people: in the app always; by email and chat as each person chose, per kind.

The channels a person chose (``User.wants``) and has set up (an email
address, a chat webhook) each get a work item keyed like the notification, so
the worker sends every notification at most once per channel.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from andon import jobs
from andon.database import insert_once, utcnow
from andon.i18n import Message
from andon.identity.models import User
from andon.notifications.models import Notification


def notify(session: Session, user: User, kind: str, message: Message, key: str, *,
           instance_id: int | None = None, task_id: int | None = None,
           now: datetime | None = None) -> Notification | None:
    """Notify a person once per key; return None when that key was notified before."""
    note, created = insert_once(
        session, Notification(key=key, user_id=user.id, kind=kind, message=message.msgid,
                              params=dict(message.params), instance_id=instance_id,
                              task_id=task_id, created_at=now or utcnow(),
                              email_state="pending" if _by_email(user, kind) else "none",
                              chat_state="pending" if _by_chat(user, kind) else "none"),
        lambda: session.scalar(select(Notification).where(Notification.key == key)))
    if not created:
        return None
    for channel in ("email", "chat"):
        if getattr(note, f"{channel}_state") == "pending":
            jobs.schedule(session, channel, f"{channel}:{key}", note.created_at,
                          {"notification": note.id}, instance_id=instance_id, task_id=task_id)
    return note


def _by_email(user: User, kind: str) -> bool:
    """Tell whether a person wants this kind by email, and has an address."""
    return bool(user.email) and user.wants(kind, "email")


def _by_chat(user: User, kind: str) -> bool:
    """Tell whether a person wants this kind in their chat tool, and has a webhook set."""
    return bool(user.chat_webhook) and user.wants(kind, "chat")


def unread_count(session: Session, user_id: int) -> int:
    """Return how many notifications the person has not read."""
    query = select(func.count(Notification.id)).where(Notification.user_id == user_id,
                                                      Notification.read_at.is_(None))
    return session.scalar(query) or 0


def recent(user_id: int, limit: int = 100) -> Select[Notification]:
    """Return a person's notifications, newest first."""
    return (select(Notification).where(Notification.user_id == user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit))


def mark_read(session: Session, user_id: int, now: datetime | None = None) -> int:
    """Mark all of a person's notifications read; return how many changed."""
    result = session.execute(update(Notification)
                             .where(Notification.user_id == user_id,
                                    Notification.read_at.is_(None))
                             .values(read_at=now or utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def message_of(note: Notification) -> Message:
    """Return a notification's message, to translate for its reader."""
    return Message(note.message, note.params)
