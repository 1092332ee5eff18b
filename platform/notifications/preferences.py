"""A person's choices: which notifications reach them by email and chat, and their webhook."""

from __future__ import annotations

from collections.abc import Mapping

from andon.i18n import N_, Message, normalize_locale, translator
from andon.identity.models import CHANNELS, TOPICS, User
from andon.notifications import chat

TOPIC_NAMES = {"assigned": N_("A task is handed to me"),
               "reminder": N_("Reminder before a task is due"),
               "escalation": N_("Escalation of an overdue task"),
               "cc": N_("I am copied on a task"),
               "digest": N_("Daily digest of my team's overdue tasks")}


def choices(user: User) -> dict[str, dict[str, bool]]:
    """Return every topic's channels as on or off, defaults filled in."""
    return {topic: {channel: user.wants(topic, channel) for channel in CHANNELS}
            for topic in TOPICS}


def choose(user: User, ticked: Mapping[str, bool]) -> None:
    """Keep which channels are on, from ``{"reminder.email": True, …}``; unticked is off."""
    user.notify_prefs = {topic: {channel: bool(ticked.get(f"{topic}.{channel}"))
                                 for channel in CHANNELS} for topic in TOPICS}


def set_webhook(user: User, kind: str, url: str, *, allow_private: bool) -> None:
    """Keep a person's chat webhook after checking it; raise ChatError if it is not usable."""
    url = url.strip()
    chat.check(kind, url, allow_private=allow_private)
    user.chat_kind, user.chat_webhook = kind, url


def remove_webhook(user: User) -> None:
    """Forget a person's chat webhook; chat notifications stop."""
    user.chat_kind = user.chat_webhook = None


def send_test(user: User, base_url: str, *, allow_private: bool) -> None:
    """Post a test message to the person's webhook now; raise ChatError if it fails."""
    if not user.chat_webhook:
        raise chat.ChatError(N_("Save a webhook address first."), temporary=False)
    text = Message(N_("Andon test message for %(name)s: notifications will arrive here."),
                   {"name": user.display_name}).render(translator(user.locale),
                                                       normalize_locale(user.locale or "zh-CN"))
    chat.post(user.chat_kind or "generic", user.chat_webhook,
              chat.ChatMessage(text=text, link=f"{base_url.rstrip('/')}/settings/",
                               key=f"test:{user.id}", kind="test"),
              allow_private=allow_private)
