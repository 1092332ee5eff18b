"""A person's settings: language, which notifications come by email and chat, the webhook."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from andon.i18n import Message
from andon.identity.models import TOPICS, User
from andon.jobs import WorkItem
from andon.notifications.center import notify

ALL_ON = {f"{topic}.{channel}": "on" for topic in TOPICS for channel in ("email", "chat")}


@pytest.fixture
def app(app):
    """The app, allowed to post to the loopback chat stand-in."""
    app.config["ANDON"].outbound_private = True
    return app


def pm_of(session) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == "pm"))


def test_settings_change_the_language_and_turn_off_email_per_kind(client, auth, session):
    auth.login("pm")
    page = client.get("/settings/").get_data(as_text=True)
    assert "pm@andon.example" in page and 'name="reminder.email" aria-label' in page
    assert 'name="reminder.email" aria-label="Email: Reminder before a task is due" checked' \
        in page
    choices = {**ALL_ON, "reminder.email": ""}
    auth.post("/settings/", {"locale": "zh_Hans_CN", **{k: v for k, v in choices.items() if v}})
    assert ">收件箱" in client.get("/inbox/").get_data(as_text=True)
    pm = pm_of(session)
    assert pm.locale == "zh_Hans_CN"
    assert not pm.wants("reminder", "email") and pm.wants("escalation", "email")

    reminded = notify(session, pm, "reminder", Message("Hello"), "probe:1")
    escalated = notify(session, pm, "escalation", Message("Hello"), "probe:2")
    assert reminded.email_state == "none" and escalated.email_state == "pending"
    assert list(session.scalars(select(WorkItem.key).where(WorkItem.kind == "email"))) == [
        "email:probe:2"]


def test_notifications_are_emailed_by_default_and_not_chatted_without_a_webhook(session,
                                                                             people):
    note = notify(session, people["pm"], "probe", Message("Hello"), "probe:2")
    assert note is not None and note.email_state == "pending" and note.chat_state == "none"
    assert notify(session, people["pm"], "probe", Message("Hello"), "probe:2") is None
    kinds = set(session.scalars(select(WorkItem.kind)))
    assert kinds - {"scheduled_start"} == {"email"}  # the shipped review plans its start


def test_a_saved_webhook_is_masked_tested_and_used(client, auth, session, chat_hook, caplog):
    caplog.set_level(logging.DEBUG)
    auth.login("pm")
    secret = f"{chat_hook.url}/ok?key=5f3c-secret-token-9a1b"
    auth.post("/settings/", {**ALL_ON, "chat_kind": "wecom", "chat_webhook": secret})
    page = client.get("/settings/").get_data(as_text=True)
    assert "secret-token" not in page and "…9a1b" in page
    assert pm_of(session).chat_webhook == secret

    tested = auth.post("/settings/chat-test", follow_redirects=True).get_data(as_text=True)
    assert "The test message was sent." in tested
    path, headers, body = chat_hook.received[-1]
    assert path == "/ok?key=5f3c-secret-token-9a1b" and body["msgtype"] == "text"
    assert "Andon 给 王芳 Wang Fang 的测试消息" in body["text"]["content"]  # in her language

    note = notify(session, pm_of(session), "cc", Message("Hello"), "probe:3")
    assert note.chat_state == "pending"
    assert "secret-token" not in caplog.text


def test_a_refused_webhook_keeps_what_was_typed_and_names_no_secret(client, auth, session,
                                                                   chat_hook):
    auth.login("pm")
    refused = auth.post("/settings/", {"chat_kind": "wecom", "chat_webhook": "ftp://x/y",
                                       "locale": "en", "digest.email": "on"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "must start with https://" in page
    assert 'value="ftp://x/y"' in page
    assert 'name="digest.email" aria-label="Email: Daily digest of my team\'s overdue tasks" ' \
           'checked' in page.replace("&#39;", "'")
    assert pm_of(session).chat_webhook is None

    auth.post("/settings/", {"chat_kind": "wecom",
                             "chat_webhook": f"{chat_hook.url}/refuse?k=s3cr3t"})
    failed = auth.post("/settings/chat-test", follow_redirects=True).get_data(as_text=True)
    assert "refused the message: 93000 bad key" in failed and "s3cr3t" not in failed
