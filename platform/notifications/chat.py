"""Post notifications to a person's chat tool through an incoming webhook.

Each preset shapes the JSON body its tool expects and reads its answer:

| kind | tool | body | success |
| --- | --- | --- | --- |
| ``wecom`` | 企业微信 group robot | ``{"msgtype": "text", "text": {"content"}}`` | ``errcode`` 0 |
| ``dingtalk`` | 钉钉 custom robot | ``{"msgtype": "text", "text": {"content"}}`` | ``errcode`` 0 |
| ``feishu`` | 飞书 / Lark custom bot | ``{"msg_type": "text", "content": {"text"}}`` | ``code`` 0 |
| ``slack`` | Slack incoming webhook | ``{"text": …}`` | HTTP 2xx |
| ``generic`` | anything else | ``{"kind", "text", "link", "key"}`` | HTTP 2xx |

Webhook addresses carry their tool's secret token, so they are never logged
or shown: errors and pages name them by ``mask``. Requests go through
``andon.outbound`` (timeouts, no redirects, private addresses refused).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from andon import outbound
from andon.errors import Undelivered
from andon.i18n import N_
from andon.identity.models import CHAT_KINDS

TIMEOUT = 10.0
#: answer codes that mean "too many messages just now": trying later helps
RATE_LIMITED = frozenset({45009, 130101, 11232, 9499})


class ChatError(Undelivered):
    """A chat message was not delivered; ``temporary`` says whether trying later may help."""


@dataclass(frozen=True)
class ChatMessage:
    """What to post: the text in the reader's language, a link, and the idempotency key."""

    text: str
    link: str
    key: str
    kind: str = "notification"


def mask(url: str) -> str:
    """Return a webhook address with its secret part hidden: https://host/…abcd."""
    parts = urlsplit(url or "")
    tail = (parts.path + ("?" + parts.query if parts.query else ""))[-4:]
    return f"{parts.scheme}://{parts.hostname or ''}/…{tail}" if parts.hostname else "…"


def check(kind: str, url: str, *, allow_private: bool) -> None:
    """Refuse an unknown tool, or an address Andon would not post to."""
    if kind not in CHAT_KINDS:
        raise ChatError(N_("Choose which chat tool the webhook belongs to."), temporary=False)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ChatError(N_("The webhook address must start with https:// (or http://)."),
                        temporary=False)
    try:
        outbound.check_url(url, allow_private=allow_private)
    except outbound.OutboundError as error:
        raise ChatError(N_("Andon cannot post to %(url)s: %(reason)s"), temporary=False,
                        url=mask(url), reason=_reason(error, url)) from None


def body(kind: str, message: ChatMessage) -> dict[str, Any]:
    """Return the JSON body the tool expects."""
    text = f"{message.text}\n{message.link}"
    if kind in ("wecom", "dingtalk"):
        return {"msgtype": "text", "text": {"content": text}}
    if kind == "feishu":
        return {"msg_type": "text", "content": {"text": text}}
    if kind == "slack":
        return {"text": f"{message.text}\n<{message.link}>"}
    return {"kind": message.kind, "text": message.text, "link": message.link, "key": message.key}


def post(kind: str, url: str, message: ChatMessage, *, allow_private: bool) -> None:
    """Post one message; raise ChatError (naming the address only masked) if it failed."""
    try:
        answer = outbound.send("POST", url, body(kind, message), timeout=TIMEOUT,
                               headers={"X-Andon-Key": message.key},
                               allow_private=allow_private)
    except outbound.OutboundError as error:
        raise ChatError(N_("The chat message to %(url)s was not delivered: %(reason)s"),
                        temporary=error.temporary, url=mask(url),
                        reason=_reason(error, url)) from None
    code, said = _answer_code(answer.json())
    if code:
        raise ChatError(N_("The chat tool at %(url)s refused the message: %(reason)s"),
                        temporary=code in RATE_LIMITED, url=mask(url),
                        reason=f"{code} {said}".strip())


def _answer_code(answer: Any) -> tuple[int, str]:
    """Return the error code a tool put in its answer (0 when it accepted), and its text."""
    if not isinstance(answer, dict):
        return 0, ""
    for code_key, text_key in (("errcode", "errmsg"), ("code", "msg"),
                               ("StatusCode", "StatusMessage")):
        code = answer.get(code_key)
        if isinstance(code, int) and code != 0:
            return code, str(answer.get(text_key, ""))[:200]
    return 0, ""


def _reason(error: outbound.OutboundError, url: str) -> str:
    """Return an outbound error's text with the webhook address masked."""
    return str(error).replace(url, mask(url))
