"""Outgoing HTTP requests talk to a real server on loopback and refuse what they must."""

from __future__ import annotations

import pytest

from andon import outbound
from andon.outbound import OutboundError


def answer(path: str, body: object) -> tuple[int, object]:
    """Answer by path: /ok echoes the JSON body, /busy is 503, /gone 404, /move 302."""
    status = {"/ok": 200, "/busy": 503, "/gone": 404, "/move": 302}.get(path, 200)
    return status, (b"x" * 70000 if path == "/big" else {"echo": body})


@pytest.fixture
def server(loopback):
    return loopback(answer)


def test_a_json_post_is_received_and_its_answer_read(server):
    response = outbound.send("post", f"{server.url}/ok", {"text": "逾期 2 项"},
                             allow_private=True)
    assert response.status == 200
    assert response.json() == {"echo": {"text": "逾期 2 项"}}
    path, headers, body = server.received[-1]
    assert (path, body) == ("/ok", {"text": "逾期 2 项"}) and headers["User-Agent"] == "Andon"


def test_a_busy_server_is_a_temporary_failure_and_a_missing_page_is_not(server):
    with pytest.raises(OutboundError) as busy:
        outbound.send("POST", f"{server.url}/busy", {}, allow_private=True)
    assert busy.value.temporary and "503" in str(busy.value)
    with pytest.raises(OutboundError) as gone:
        outbound.send("POST", f"{server.url}/gone", {}, allow_private=True)
    assert not gone.value.temporary


def test_redirects_are_not_followed(server):
    with pytest.raises(OutboundError, match="302"):
        outbound.send("POST", f"{server.url}/move", {}, allow_private=True)


def test_a_large_answer_is_cut(server):
    response = outbound.send("POST", f"{server.url}/big", {}, allow_private=True)
    assert response.truncated and len(response.body) == outbound.MAX_RESPONSE
    assert response.json() is None


def test_a_closed_port_is_a_temporary_failure():
    with pytest.raises(OutboundError) as error:
        outbound.send("POST", "http://127.0.0.1:9/", {}, allow_private=True, timeout=2)
    assert error.value.temporary


@pytest.mark.parametrize("url", ["http://127.0.0.1/hook", "http://localhost:8080/",
                                 "http://10.1.2.3/", "http://169.254.169.254/latest/meta-data",
                                 "http://[::1]/"])
def test_private_addresses_are_refused_unless_allowed(url):
    with pytest.raises(OutboundError, match="private network") as error:
        outbound.send("POST", url, {})
    assert not error.value.temporary


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/", "hooks.example"])
def test_only_http_addresses_are_called(url):
    with pytest.raises(OutboundError, match="not an http or https address"):
        outbound.send("POST", url, {}, allow_private=True)


def test_an_oversized_request_is_refused_before_sending():
    with pytest.raises(OutboundError, match="larger than"):
        outbound.send("POST", "http://127.0.0.1:9/", "x" * (outbound.MAX_BODY + 1),
                      allow_private=True)
