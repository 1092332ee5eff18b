"""Sending emails through a real SMTP conversation, and reading SMTP settings."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable

import pytest

from andon.notifications.mailer import Email, MailError, SmtpSettings, build_message, send

from .conftest import PASSWORD, USER, Recorder, Server, free_port


def make_email(**changes: object) -> Email:
    """Return a small email to two people, changed as asked."""
    values: dict[str, object] = {
        "to": ["王芳 <wang@example.com>", "bob@example.com"],
        "subject": "任务逾期：采购申请 #42",
        "text": "请尽快处理。\n",
        "message_id": "notification-42",
    }
    values.update(changes)
    return Email(**values)  # type: ignore[arg-type]


def test_plain_email_arrives_with_headers(server: Server) -> None:
    send(server.settings, make_email(headers={"List-Unsubscribe": "<https://andon/me>"}))
    [envelope] = server.handler.envelopes
    [message] = server.handler.messages
    assert envelope.mail_from == "andon@example.com"
    assert envelope.rcpt_tos == ["wang@example.com", "bob@example.com"]
    assert message["From"] == "Andon <andon@example.com>"
    assert [a.display_name for a in message["To"].addresses] == ["王芳", ""]
    assert message["Subject"] == "任务逾期：采购申请 #42"
    assert message["Message-ID"] == "<notification-42@example.com>"
    assert message["List-Unsubscribe"] == "<https://andon/me>"
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "请尽快处理。\n"


def test_subject_is_encoded_for_the_wire() -> None:
    raw = build_message(make_email(), "Andon <andon@example.com>").as_bytes()
    assert "任务".encode() not in raw
    assert b"Subject: =?utf-8?" in raw


def test_html_alternative_arrives(server: Server) -> None:
    send(server.settings, make_email(html="<p>请<b>尽快</b>处理。</p>"))
    [message] = server.handler.messages
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.iter_parts()
    assert plain.get_content() == "请尽快处理。\n"
    assert html.get_content_type() == "text/html"
    assert html.get_content() == "<p>请<b>尽快</b>处理。</p>\n"


def test_login_with_right_password(smtp_server: Callable[..., Server]) -> None:
    server = smtp_server(Recorder(require_auth=True), auth=True,
                         username=USER, password=PASSWORD)
    send(server.settings, make_email())
    assert len(server.handler.envelopes) == 1


def test_wrong_password_is_permanent_and_not_shown(
        smtp_server: Callable[..., Server], caplog: pytest.LogCaptureFixture) -> None:
    server = smtp_server(Recorder(require_auth=True), auth=True,
                         username=USER, password="wrong-Pa55word")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(MailError) as caught:
        send(server.settings, make_email())
    assert not caught.value.temporary
    assert caught.value.code == 535
    assert "wrong-Pa55word" not in str(caught.value) + caplog.text + repr(server.settings)
    assert server.handler.envelopes == []


def test_server_requiring_login_refuses_anonymous(smtp_server: Callable[..., Server]) -> None:
    server = smtp_server(Recorder(require_auth=True), auth=True)
    with pytest.raises(MailError) as caught:
        send(server.settings, make_email())
    assert (caught.value.temporary, caught.value.code) == (False, 530)


@pytest.mark.parametrize(("handler", "code", "temporary"), [
    (Recorder(refuse_data="451 4.3.0 Mailbox busy, try later"), 451, True),
    (Recorder(refuse_rcpt="450 4.2.1 Try again later"), 450, True),
    (Recorder(refuse_rcpt="550 5.1.1 No such user"), 550, False),
    (Recorder(refuse_data="554 5.7.1 Message rejected as spam"), 554, False),
])
def test_refusal_says_whether_to_retry(smtp_server: Callable[..., Server], handler: Recorder,
                                       code: int, temporary: bool) -> None:
    server = smtp_server(handler)
    with pytest.raises(MailError) as caught:
        send(server.settings, make_email())
    assert (caught.value.code, caught.value.temporary) == (code, temporary)
    assert str(code) in str(caught.value)
    assert ("trying again later may work" in str(caught.value)) == temporary


def test_closed_port_is_temporary_and_quick() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), timeout=1)
    started = time.monotonic()
    with pytest.raises(MailError) as caught:
        send(settings, make_email())
    assert caught.value.temporary
    assert time.monotonic() - started < 1


def test_silent_server_times_out_as_temporary() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        settings = SmtpSettings(host="127.0.0.1", port=silent.getsockname()[1], timeout=0.3)
        started = time.monotonic()
        with pytest.raises(MailError) as caught:
            send(settings, make_email())
    assert caught.value.temporary
    assert 0.3 <= time.monotonic() - started < 2


def test_starttls_against_server_without_it_is_permanent(server: Server) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=server.settings.port, security="starttls")
    with pytest.raises(MailError) as caught:
        send(settings, make_email())
    assert not caught.value.temporary
    assert server.handler.envelopes == []


@pytest.mark.parametrize("changes", [
    {"to": []},
    {"message_id": "notification 42"},
    {"message_id": "<notification-42@andon>"},
    {"headers": {"Subject": "other"}},
])
def test_email_rejects_bad_values(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        make_email(**changes)


def test_from_env_without_host_means_email_is_off() -> None:
    assert SmtpSettings.from_env({}) is None
    assert SmtpSettings.from_env({"ANDON_SMTP_HOST": " "}) is None


def test_from_env_defaults() -> None:
    settings = SmtpSettings.from_env({"ANDON_SMTP_HOST": "mail.example.com"})
    assert settings == SmtpSettings(host="mail.example.com", port=25, username=None,
                                    password=None, sender="Andon <andon@localhost>",
                                    security="none", timeout=10)


@pytest.mark.parametrize(("security", "port"), [("starttls", 587), ("ssl", 465), ("SSL", 465)])
def test_from_env_port_follows_security(security: str, port: int) -> None:
    settings = SmtpSettings.from_env({"ANDON_SMTP_HOST": "mail", "ANDON_SMTP_SECURITY": security})
    assert settings is not None
    assert (settings.security, settings.port) == (security.lower(), port)


def test_from_env_reads_everything() -> None:
    settings = SmtpSettings.from_env({
        "ANDON_SMTP_HOST": "smtp.exmail.qq.com", "ANDON_SMTP_PORT": "2525",
        "ANDON_SMTP_USER": "andon@corp.cn", "ANDON_SMTP_PASSWORD": "pw",
        "ANDON_SMTP_FROM": "安灯 <andon@corp.cn>", "ANDON_SMTP_SECURITY": "starttls",
        "ANDON_SMTP_TIMEOUT": "2.5",
    })
    assert settings == SmtpSettings(host="smtp.exmail.qq.com", port=2525,
                                    username="andon@corp.cn", password="pw",
                                    sender="安灯 <andon@corp.cn>", security="starttls",
                                    timeout=2.5)
    assert "pw" not in repr(settings)


@pytest.mark.parametrize(("name", "value"), [
    ("ANDON_SMTP_PORT", "smtp"),
    ("ANDON_SMTP_PORT", "70000"),
    ("ANDON_SMTP_SECURITY", "tls"),
    ("ANDON_SMTP_FROM", "Andon"),
    ("ANDON_SMTP_TIMEOUT", "0"),
    ("ANDON_SMTP_PASSWORD", "pw"),
])
def test_from_env_names_the_bad_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        SmtpSettings.from_env({"ANDON_SMTP_HOST": "mail", name: value})
