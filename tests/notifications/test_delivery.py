"""Notifications reach people by email through a real SMTP server, once each."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from andon import clock
from andon.config import Config
from andon.database import make_session_factory
from andon.flows import runtime
from andon.notifications.models import Notification
from andon.worker import handlers, run_once

from .conftest import Recorder

REQUEST = {"title": "夜间导出 Nightly export", "project": "P", "reason": "R",
           "effort_days": "3", "customer_contact": "C"}
SHANGHAI = ZoneInfo("Asia/Shanghai")
STARTED = datetime(2026, 3, 2, 10, tzinfo=SHANGHAI)
REMINDED = datetime(2026, 3, 3, 15, 30, tzinfo=SHANGHAI)  # four working hours before


def remind_pm(session, people, engine, tmp_path, settings) -> int:
    """Start a change request, move to its reminder time and run the worker twice."""
    people["pm"].locale = "zh_Hans_CN"
    with clock.frozen(STARTED):
        runtime.start_instance(session, "change_request", people["engineer1"], REQUEST)
        session.commit()
    config = Config.from_env({}, instance_path=tmp_path)
    config.smtp = settings
    work, sessions = handlers(config), make_session_factory(engine)
    with clock.frozen(REMINDED):
        return run_once(sessions, work, REMINDED) + run_once(sessions, work, REMINDED)


def test_a_reminder_is_emailed_once_in_the_readers_language(session, people, engine, tmp_path,
                                                           server):
    remind_pm(session, people, engine, tmp_path, server.settings)
    new_task, mail = server.handler.messages  # when the task opened, then the reminder, once
    assert "“项目经理审核”" in new_task["Subject"]  # the step in the reader's language
    assert mail["To"] == "pm@andon.example"
    assert mail["Subject"] == "提醒：“夜间导出 Nightly export”的步骤“项目经理审核”即将到期"
    assert "/tasks/" in mail.get_content()
    session.expire_all()
    assert set(session.scalars(select(Notification.email_state))) == {"sent"}


def test_a_refusing_mail_server_gets_the_email_again_later(session, people, engine, tmp_path,
                                                          smtp_server):
    refusing = smtp_server(Recorder(refuse_data="451 4.3.0 try again later"))
    remind_pm(session, people, engine, tmp_path, refusing.settings)
    session.expire_all()
    note = session.scalar(select(Notification))
    assert note.email_state == "pending"
    from andon.jobs import WorkItem
    item = session.scalar(select(WorkItem).where(WorkItem.kind == "email"))
    assert item.state == "pending" and item.due_at > REMINDED and "451" in item.last_error
