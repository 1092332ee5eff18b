"""Fixtures: a real SMTP server on 127.0.0.1 that records what it receives."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from andon.notifications.mailer import SmtpSettings

USER = "andon"
PASSWORD = "s3cret-Pa55"


class Recorder:
    """Accept every email and keep it; refuse at one stage when told to."""

    def __init__(self, refuse_rcpt: str | None = None, refuse_data: str | None = None,
                 require_auth: bool = False) -> None:
        self.refuse_rcpt = refuse_rcpt
        self.refuse_data = refuse_data
        self.require_auth = require_auth
        self.envelopes: list[Envelope] = []

    @property
    def messages(self) -> list[EmailMessage]:
        """Return the received emails, parsed with local line ends as a mailbox would."""
        raw = [(e.original_content or b"").replace(b"\r\n", b"\n") for e in self.envelopes]
        return [message_from_bytes(data, policy=policy.default) for data in raw]

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        """Refuse senders that did not log in when the server requires it."""
        if self.require_auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        """Accept the recipient unless told to refuse recipients."""
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Keep the email unless told to refuse it."""
        if self.refuse_data:
            return self.refuse_data
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def check_password(server: SMTP, session: Session, envelope: Envelope,
                   mechanism: str, auth_data: Any) -> AuthResult:
    """Accept only USER with PASSWORD."""
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@dataclass
class Server:
    """A running SMTP server and the settings that reach it."""

    handler: Recorder
    settings: SmtpSettings


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Server]]:
    """Start SMTP servers on free ports on demand; stop them after the test."""
    controllers: list[Controller] = []

    def start(handler: Recorder | None = None, auth: bool = False, **settings: Any) -> Server:
        handler = handler or Recorder()
        port = free_port()
        extra = {"authenticator": check_password, "auth_require_tls": False} if auth else {}
        controller = Controller(handler, hostname="127.0.0.1", port=port, **extra)
        controller.start()
        controllers.append(controller)
        return Server(handler, SmtpSettings(host="127.0.0.1", port=port,
                                            sender="Andon <andon@example.com>",
                                            timeout=5, **settings))

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def server(smtp_server: Callable[..., Server]) -> Server:
    """Give a running SMTP server that accepts everything without login."""
    return smtp_server()
