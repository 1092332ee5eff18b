"""A person's settings: language, and whether notifications also come by email."""

from __future__ import annotations

from sqlalchemy import select

from andon.i18n import Message
from andon.identity.models import User
from andon.jobs import WorkItem
from andon.notifications.center import notify


def test_settings_change_the_language_and_stop_email(client, auth, session):
    auth.login("pm")
    page = client.get("/settings/").get_data(as_text=True)
    assert "pm@andon.example" in page and 'name="email_notifications" checked' in page
    auth.post("/settings/", {"locale": "zh_Hans_CN"})  # the box left unticked
    assert ">收件箱" in client.get("/inbox/").get_data(as_text=True)
    session.expire_all()
    pm = session.scalar(select(User).where(User.username == "pm"))
    assert pm.locale == "zh_Hans_CN" and pm.email_notifications is False

    note = notify(session, pm, "probe", Message("Hello"), "probe:1")
    assert note is not None and note.email_state == "none"
    assert session.scalar(select(WorkItem.id).where(WorkItem.kind == "email")) is None


def test_notifications_are_emailed_by_default(session, people):
    note = notify(session, people["pm"], "probe", Message("Hello"), "probe:2")
    assert note is not None and note.email_state == "pending"
    assert notify(session, people["pm"], "probe", Message("Hello"), "probe:2") is None
    (kind,) = session.scalars(select(WorkItem.kind))
    assert kind == "email"
