"""Send notifications by email, as a work item the worker runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from andon.i18n import normalize_locale, translator
from andon.identity.models import User
from andon.jobs import WorkItem
from andon.notifications.center import message_of
from andon.notifications.mailer import Email, SmtpSettings, send
from andon.notifications.models import Notification


def email_handler(settings: SmtpSettings | None,
                  base_url: str) -> Callable[[Session, WorkItem, datetime], None]:
    """Return the handler that emails one notification in its reader's language."""
    def deliver(session: Session, item: WorkItem, _now: datetime) -> None:
        """Email the notification once; with email off, mark it so."""
        note = session.get(Notification, item.payload["notification"])
        if note is None or note.email_state != "pending":
            return
        user = session.get(User, note.user_id)
        if settings is None or user is None or not user.email:
            note.email_state = "off"
            return
        send(settings, compose(note, user, base_url))
        note.email_state = "sent"
    return deliver


def link_of(note: Notification) -> str:
    """Return the page a notification leads to, as a path."""
    if note.task_id:
        return f"/tasks/{note.task_id}"
    return "/inbox/?view=team_overdue" if note.kind == "digest" else "/"


def compose(note: Notification, user: User, base_url: str) -> Email:
    """Write the email of a notification in the user's language, with a link to act."""
    text = message_of(note).render(translator(user.locale),
                                   normalize_locale(user.locale or "zh-CN"))
    link = f"{base_url.rstrip('/')}{link_of(note)}"
    subject = " ".join(text.split())  # a title typed with line breaks stays one header line
    return Email(to=[user.email or ""], subject=subject, text=f"{text}\n\n{link}\n",
                 message_id=note.key.replace(":", "-"))
