"""Notifications reach a person's chat tool through the worker: once, retried, never leaking."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from andon import clock
from andon.config import Config
from andon.database import make_session_factory
from andon.i18n import N_, Message
from andon.jobs import WorkItem
from andon.notifications import chat
from andon.notifications.center import notify
from andon.notifications.models import Notification
from andon.worker import handlers, run_once

NOW = datetime(2026, 3, 2, 2, tzinfo=UTC)
MESSAGE = Message(N_("%(name)s handed you “%(step)s” of “%(title)s”"),
                  {"name": "李雷", "step": {"en": "Review", "zh-CN": "评审"}, "title": "导出"})


def hooked(session, people, url: str, kind: str = "wecom", **prefs):
    """Give pm a chat webhook (and preferences) and return pm."""
    pm = people["pm"]
    pm.chat_kind, pm.chat_webhook, pm.locale = kind, url, "zh_Hans_CN"
    pm.notify_prefs = prefs
    session.commit()
    return pm


def run(engine, tmp_path, times: int = 1) -> int:
    config = Config.from_env({}, instance_path=tmp_path)
    config.outbound_private = True
    work, sessions = handlers(config), make_session_factory(engine)
    with clock.frozen(NOW):
        return sum(run_once(sessions, work, NOW) for _ in range(times))


def test_a_notification_is_posted_once_in_the_readers_language(session, people, engine,
                                                               tmp_path, chat_hook, caplog):
    caplog.set_level(logging.DEBUG)
    pm = hooked(session, people, f"{chat_hook.url}/ok?key=top-secret-1")
    with clock.frozen(NOW):
        notify(session, pm, "transfer", MESSAGE, "transfer:1:2:3", task_id=None)
        session.commit()
    run(engine, tmp_path, times=2)
    ((path, headers, body),) = chat_hook.received
    assert path == "/ok?key=top-secret-1" and headers["X-Andon-Key"] == "transfer:1:2:3"
    assert body["msgtype"] == "text"
    assert body["text"]["content"] == "李雷 将“导出”的步骤“评审”转交给您\nhttp://127.0.0.1:5000/"
    session.expire_all()
    assert session.scalar(select(Notification.chat_state)) == "sent"
    assert "top-secret" not in caplog.text


def test_a_busy_tool_is_tried_again_later_and_its_address_not_recorded(session, people, engine,
                                                                       tmp_path, chat_hook,
                                                                       caplog):
    caplog.set_level(logging.DEBUG)
    pm = hooked(session, people, f"{chat_hook.url}/busy?key=top-secret-2")
    with clock.frozen(NOW):
        notify(session, pm, "reminder", MESSAGE, "remind:1")
        session.commit()
    run(engine, tmp_path)
    session.expire_all()
    item = session.scalar(select(WorkItem).where(WorkItem.kind == "chat"))
    assert item.state == "pending" and item.due_at > NOW and "503" in item.last_error
    assert "top-secret" not in item.last_error and "…et-2" in item.last_error
    assert "top-secret" not in caplog.text


def test_a_tool_refusing_the_message_is_not_retried(session, people, engine, tmp_path,
                                                    chat_hook):
    pm = hooked(session, people, f"{chat_hook.url}/refuse?key=k")
    with clock.frozen(NOW):
        notify(session, pm, "escalation", MESSAGE, "escalate:1")
        session.commit()
    run(engine, tmp_path)
    session.expire_all()
    item = session.scalar(select(WorkItem).where(WorkItem.kind == "chat"))
    assert item.state == "failed" and "93000 bad key" in item.last_error


def test_a_kind_turned_off_for_chat_is_not_posted(session, people, engine, tmp_path, chat_hook):
    pm = hooked(session, people, f"{chat_hook.url}/ok", digest={"chat": False, "email": True})
    with clock.frozen(NOW):
        assert notify(session, pm, "digest", MESSAGE, "digest:x").chat_state == "none"
        assert notify(session, pm, "cc", MESSAGE, "cc:x").chat_state == "pending"
        session.commit()
    run(engine, tmp_path)
    assert len(chat_hook.received) == 1


@pytest.mark.parametrize(("kind", "shape"), [
    ("wecom", {"msgtype": "text", "text": {"content": "Hi\nhttp://a/t"}}),
    ("dingtalk", {"msgtype": "text", "text": {"content": "Hi\nhttp://a/t"}}),
    ("feishu", {"msg_type": "text", "content": {"text": "Hi\nhttp://a/t"}}),
    ("slack", {"text": "Hi\n<http://a/t>"}),
    ("generic", {"kind": "cc", "text": "Hi", "link": "http://a/t", "key": "k"}),
])
def test_each_preset_shapes_the_body_its_tool_expects(kind, shape):
    assert chat.body(kind, chat.ChatMessage("Hi", "http://a/t", "k", "cc")) == shape


def test_addresses_are_masked_and_private_ones_refused():
    assert chat.mask("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd-1234") == \
        "https://qyapi.weixin.qq.com/…1234"
    with pytest.raises(chat.ChatError, match="private network") as caught:
        chat.check("wecom", "http://127.0.0.1/hook?key=s3cr3t", allow_private=False)
    assert "s3cr3t" not in str(caught.value)
