"""Send HTTP requests to addresses administrators configured: webhooks and chat tools.

Requests go out with a timeout, without following redirects, and read at most
``MAX_RESPONSE`` bytes of the answer. Addresses on loopback, private, link-local
and other reserved networks are refused unless ANDON_OUTBOUND_ALLOW_PRIVATE=1, so a
flow cannot be turned into a probe of the machines behind Andon.

A failure raises ``OutboundError`` saying whether trying later may help
(``temporary``): the worker retries temporary failures with backoff.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from andon.errors import Undelivered
from andon.i18n import N_

MAX_RESPONSE = 64 * 1024
MAX_BODY = 1024 * 1024
DEFAULT_TIMEOUT = 10.0
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
#: answers after which sending the same request again later may succeed
TEMPORARY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class OutboundError(Undelivered):
    """A request could not be sent or was refused; ``temporary`` says whether to retry."""


@dataclass(frozen=True)
class Response:
    """What the other side answered: status, headers and the (capped) body as text."""

    status: int
    headers: dict[str, str]
    body: str
    truncated: bool = False

    def json(self) -> Any:
        """Return the body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuse to follow redirects: the target was checked, where it points was not."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def check_url(url: str, *, allow_private: bool = False) -> None:
    """Refuse a URL that is not http(s) or whose host resolves to a private address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundError(N_("%(url)s is not an http or https address"),
                            temporary=False, url=url)
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror:
        raise OutboundError(N_("The host of %(url)s could not be found"),
                            temporary=True, url=url) from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise OutboundError(N_("%(url)s points into a private network, which Andon does "
                                   "not call unless ANDON_OUTBOUND_ALLOW_PRIVATE=1"),
                                temporary=False, url=url)


def send(method: str, url: str, payload: Any = None, *,
         headers: Mapping[str, str] | None = None, timeout: float = DEFAULT_TIMEOUT,
         allow_private: bool = False) -> Response:
    """Send ``payload`` as JSON and return the answer; raise OutboundError if it failed."""
    method = method.upper()
    if method not in METHODS:
        raise OutboundError(N_("%(method)s is not an HTTP method Andon sends"),
                            temporary=False, method=method)
    check_url(url, allow_private=allow_private)
    body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
    if body is not None and len(body) > MAX_BODY:
        raise OutboundError(N_("The request to %(url)s is larger than %(limit)s bytes"),
                            temporary=False, url=url, limit=MAX_BODY)
    sent = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Andon",
            **dict(headers or {})}
    # check_url let only http and https through
    request = urllib.request.Request(url, data=body, method=method, headers=sent)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as answer:
            return _response(answer.status, answer)
    except urllib.error.HTTPError as answer:
        answer.close()
        raise OutboundError(N_("%(url)s answered %(status)s"), url=url, status=answer.code,
                            temporary=answer.code in TEMPORARY_STATUSES) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        reason = getattr(error, "reason", error)
        raise OutboundError(N_("%(url)s could not be reached: %(reason)s"),
                            temporary=True, url=url, reason=str(reason)) from None


def _response(status: int, answer: Any) -> Response:
    """Read at most MAX_RESPONSE bytes of an answer."""
    raw = answer.read(MAX_RESPONSE + 1)
    return Response(status=status, headers={k.lower(): v for k, v in answer.headers.items()},
                    body=raw[:MAX_RESPONSE].decode("utf-8", errors="replace"),
                    truncated=len(raw) > MAX_RESPONSE)
