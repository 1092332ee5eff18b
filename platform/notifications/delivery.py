"""Send notifications by email and to chat webhooks, as work items the worker runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from andon.i18n import normalize_locale, translator
from andon.identity.models import User
from andon.jobs import WorkItem
from andon.notifications import chat
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
        if settings is None or user is None or not user.email or not user.wants(note.kind,
                                                                                "email"):
            note.email_state = "off"
            return
        send(settings, compose(note, user, base_url))
        note.email_state = "sent"
    return deliver


def chat_handler(base_url: str, allow_private: bool
                 ) -> Callable[[Session, WorkItem, datetime], None]:
    """Return the handler that posts one notification to its reader's chat webhook."""
    def deliver(session: Session, item: WorkItem, _now: datetime) -> None:
        """Post the notification once; with no webhook any more, mark it so."""
        note = session.get(Notification, item.payload["notification"])
        if note is None or note.chat_state != "pending":
            return
        user = session.get(User, note.user_id)
        if user is None or not user.chat_webhook or not user.wants(note.kind, "chat"):
            note.chat_state = "off"
            return
        chat.post(user.chat_kind or "generic", user.chat_webhook,
                  chat_message(note, user, base_url), allow_private=allow_private)
        note.chat_state = "sent"
    return deliver


def chat_message(note: Notification, user: User, base_url: str) -> chat.ChatMessage:
    """Write a notification for a chat tool, in the reader's language, with a link to act."""
    text = message_of(note).render(translator(user.locale),
                                   normalize_locale(user.locale or "zh-CN"))
    return chat.ChatMessage(text=text, link=f"{base_url.rstrip('/')}{link_of(note)}",
                            key=note.key, kind=note.kind)


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
