"""Send emails over SMTP, saying on failure whether sending again may help.

Email is off unless ANDON_SMTP_HOST is set.

| variable | default | meaning |
| --- | --- | --- |
| ANDON_SMTP_HOST | (unset: email is off) | mail server to hand emails to |
| ANDON_SMTP_PORT | 25, 587 for starttls, 465 for ssl | its port |
| ANDON_SMTP_USER | (none: no login) | user name to log in with |
| ANDON_SMTP_PASSWORD | (none) | password to log in with |
| ANDON_SMTP_FROM | Andon <andon@localhost> | sender of every email |
| ANDON_SMTP_SECURITY | none | none, starttls or ssl |
| ANDON_SMTP_TIMEOUT | 10 | seconds to wait for the server before giving up |
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Literal, cast

from andon.errors import Undelivered
from andon.i18n import N_

log = logging.getLogger(__name__)

Security = Literal["none", "starttls", "ssl"]
SECURITIES: tuple[Security, ...] = ("none", "starttls", "ssl")
DEFAULT_PORTS: dict[Security, int] = {"none": 25, "starttls": 587, "ssl": 465}
DEFAULT_SENDER = "Andon <andon@localhost>"
RESERVED_HEADERS = frozenset({
    "from", "to", "cc", "bcc", "subject", "date", "message-id",
    "mime-version", "content-type", "content-transfer-encoding",
})
_MESSAGE_ID = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the mail server and whom emails come from."""

    host: str
    port: int = 25
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = DEFAULT_SENDER
    security: Security = "none"
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise ValueError(f"security must be one of {', '.join(SECURITIES)}")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings | None:
        """Read the settings from ANDON_SMTP_* variables; None when email is off."""
        host = env.get("ANDON_SMTP_HOST", "").strip()
        if not host:
            return None
        security = _security(env.get("ANDON_SMTP_SECURITY", "none"))
        username = env.get("ANDON_SMTP_USER") or None
        password = env.get("ANDON_SMTP_PASSWORD") or None
        if password and not username:
            raise ValueError("ANDON_SMTP_PASSWORD is set but ANDON_SMTP_USER is not")
        return cls(host=host, port=_port(env.get("ANDON_SMTP_PORT"), security),
                   username=username, password=password,
                   sender=_sender(env.get("ANDON_SMTP_FROM") or DEFAULT_SENDER),
                   security=security, timeout=_timeout(env.get("ANDON_SMTP_TIMEOUT")))


def _security(value: str) -> Security:
    """Return a valid ANDON_SMTP_SECURITY value."""
    value = value.strip().lower() or "none"
    if value not in SECURITIES:
        raise ValueError(f"ANDON_SMTP_SECURITY must be one of {', '.join(SECURITIES)}, "
                         f"not {value!r}")
    return cast(Security, value)


def _port(value: str | None, security: Security) -> int:
    """Return ANDON_SMTP_PORT as a number, defaulting by security."""
    if not value:
        return DEFAULT_PORTS[security]
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise ValueError(f"ANDON_SMTP_PORT must be a number from 1 to 65535, not {value!r}")
    return port


def _sender(value: str) -> str:
    """Return ANDON_SMTP_FROM if it holds an email address."""
    if "@" not in parseaddr(value)[1]:
        raise ValueError(f"ANDON_SMTP_FROM must hold an email address, not {value!r}")
    return value


def _timeout(value: str | None) -> float:
    """Return ANDON_SMTP_TIMEOUT as positive seconds."""
    if not value:
        return 10.0
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ValueError(f"ANDON_SMTP_TIMEOUT must be a positive number, not {value!r}")
    return seconds


@dataclass(frozen=True)
class Email:
    """One email to send; message_id is the caller's stable idempotency key."""

    to: Sequence[str]
    subject: str
    text: str
    message_id: str
    html: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "to", tuple(self.to))
        if not self.to:
            raise ValueError("an email needs at least one recipient")
        if not _MESSAGE_ID.fullmatch(self.message_id):
            raise ValueError(f"message_id {self.message_id!r} may hold only letters, "
                             "digits and .-_ and similar, no @ or spaces")
        reserved = sorted(n for n in self.headers if n.lower() in RESERVED_HEADERS)
        if reserved:
            raise ValueError(f"extra headers may not set {', '.join(reserved)}")


class MailError(Undelivered):
    """An email could not be sent; ``temporary`` says whether trying later may work."""

    def __init__(self, msgid: str, *, temporary: bool, code: int | None = None,
                 **params: object) -> None:
        self.code = code
        super().__init__(msgid, temporary=temporary, **params)


def build_message(email: Email, sender: str) -> EmailMessage:
    """Return the MIME message for ``email`` from ``sender``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.to)
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<{email.message_id}@{_domain(sender)}>"
    for name, value in email.headers.items():
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def _domain(sender: str) -> str:
    """Return the domain of the sender's address, the right side of Message-IDs."""
    return parseaddr(sender)[1].rpartition("@")[2] or "andon"


def send(settings: SmtpSettings, email: Email) -> None:
    """Hand ``email`` to the mail server; raise MailError if it is not accepted."""
    message = build_message(email, settings.sender)
    try:
        client = _connect(settings)
    except (smtplib.SMTPException, OSError) as error:
        raise _mail_error(error, email) from error
    try:
        if settings.username:
            client.login(settings.username, settings.password or "")
        refused = client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        client.close()
        raise _mail_error(error, email) from error
    _goodbye(client)
    if refused:
        raise _partly_refused(refused, email)
    log.info("Sent email %s to %d recipients", email.message_id, len(email.to))


def _goodbye(client: smtplib.SMTP) -> None:
    """Say QUIT; the server has the message already, so a failing goodbye changes nothing."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError) as error:
        log.warning("The mail server accepted the email but not the goodbye: %s", error)
        client.close()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """Open a connection to the mail server, encrypted as configured."""
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                context=ssl.create_default_context())
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        try:
            client.starttls(context=ssl.create_default_context())
        except BaseException:
            client.close()
            raise
    return client


def _mail_error(error: BaseException, email: Email) -> MailError:
    """Return the MailError for a failure of smtplib or of the network."""
    code, reason = _describe(error)
    temporary = _is_temporary(error, code)
    msgid = (N_("The email %(message_id)s could not be sent for now (%(reason)s); "
                "trying again later may work.") if temporary else
             N_("The email %(message_id)s could not be sent (%(reason)s); "
                "trying again will not help."))
    log.warning("Email %s not sent: %s", email.message_id, reason)
    return MailError(msgid, temporary=temporary, code=code,
                     message_id=email.message_id, reason=reason)


def _describe(error: BaseException) -> tuple[int | None, str]:
    """Return the SMTP code (if any) and a one-line reason for ``error``."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        replies = [f"{to}: {code} {_text(reply)}"
                   for to, (code, reply) in error.recipients.items()]
        codes = {code for code, _ in error.recipients.values()}
        return max(codes, default=None), "; ".join(replies)
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code, f"{error.smtp_code} {_text(error.smtp_error)}"
    return None, str(error) or type(error).__name__


def _is_temporary(error: BaseException, code: int | None) -> bool:
    """Tell whether sending again later may succeed."""
    if code is not None:
        return 400 <= code < 500
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(error, smtplib.SMTPException | ssl.SSLCertVerificationError):
        return False
    return isinstance(error, OSError)


def _partly_refused(refused: dict[str, tuple[int, bytes]], email: Email) -> MailError:
    """Return the permanent MailError for an email some recipients refused."""
    reason = "; ".join(f"{to}: {code} {_text(reply)}" for to, (code, reply) in refused.items())
    log.warning("Email %s refused for some recipients: %s", email.message_id, reason)
    return MailError(N_("The email %(message_id)s reached only some recipients; these "
                        "refused it: %(reason)s. Sending again would repeat it to the others."),
                     temporary=False, code=max(code for code, _ in refused.values()),
                     message_id=email.message_id, reason=reason)


def _text(reply: bytes | str) -> str:
    """Return a server reply as one line of text."""
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())
