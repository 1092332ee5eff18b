"""Signing in and out, CSRF, permissions and the language switch, over HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from andon.identity.models import User


def test_pages_need_a_sign_in(client, people):
    response = client.get("/inbox/")
    assert response.status_code == 302
    assert response.location.startswith("/auth/login?next=/inbox/")


def test_htmx_fragment_without_a_session_asks_for_a_full_redirect(client, people):
    response = client.get("/inbox/count", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login"


def test_wrong_password_shows_a_message_and_signs_nobody_in(client, auth):
    response = auth.login("pm", "not-the-password")
    assert response.status_code == 401
    assert "Wrong user name or password." in response.get_data(as_text=True)
    assert client.get("/inbox/").status_code == 302


def test_sign_in_goes_back_where_the_user_was_going(client, auth):
    client.get("/reports/")
    response = client.post("/auth/login?next=/reports/", data={
        "username": "leader", "password": "correct-horse-1", "csrf_token": auth.csrf()})
    assert response.location == "/reports/"


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/",
                                    "https://evil.example/", "/\tevil", "javascript:alert(1)"])
def test_sign_in_never_redirects_to_another_site(client, auth, target):
    response = client.post("/auth/login", query_string={"next": target}, data={
        "username": "leader", "password": "correct-horse-1", "csrf_token": auth.csrf()})
    assert response.location == "/"


def test_pages_refuse_to_be_framed_by_other_sites(client, auth):
    response = client.get("/auth/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client, auth, session):
    auth.login("engineer1")
    response = client.post("/start/change_request", data={"title": "x"})
    assert response.status_code == 400
    assert "nothing was changed" in response.get_data(as_text=True)
    from andon.flows.models import FlowInstance
    assert session.scalar(select(FlowInstance.id)) is None


def test_htmx_post_is_accepted_only_with_the_token_in_a_header(client, auth):
    auth.login("engineer1")
    token = auth.csrf()
    without = client.post("/auth/language", data={"locale": "en", "next": "/inbox/"},
                          headers={"HX-Request": "true"})
    assert without.status_code == 400
    response = client.post("/auth/language", data={"locale": "en", "next": "/inbox/"},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 302


def test_sign_out_ends_the_session(client, auth):
    auth.login("pm")
    response = auth.post("/auth/logout")
    assert response.location == "/auth/login"
    assert client.get("/inbox/").status_code == 302


def test_a_request_in_flight_at_sign_out_does_not_sign_the_user_in_again(app, auth):
    auth.login("pm")
    other_tab = app.test_client()  # the same browser: a badge refresh sent before signing out
    with auth.client.session_transaction() as before:
        with other_tab.session_transaction() as copied:
            copied.update(before)
    auth.post("/auth/logout")
    late = other_tab.get("/inbox/count", headers={"HX-Request": "true"})
    assert late.status_code == 200
    assert "Set-Cookie" not in late.headers  # so the browser keeps the signed-out cookie
    assert auth.client.get("/inbox/").status_code == 302


def test_a_post_after_the_session_ended_changes_nothing(client, auth, session):
    auth.login("engineer1")
    token = auth.csrf()
    with client.session_transaction() as cookie:
        cookie.pop("_user_id")
    response = client.post("/start/change_request", data={"title": "x", "csrf_token": token})
    assert response.status_code == 302 and response.location.startswith("/auth/login")
    from andon.flows.models import FlowInstance
    assert session.scalar(select(FlowInstance.id)) is None


def test_an_expired_session_sends_the_user_to_sign_in(app, client, auth):
    auth.login("pm")
    with client.session_transaction() as session:
        session.clear()
    response = client.get("/inbox/")
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "your session has ended" in page


def test_admin_pages_give_a_clear_403_to_others(client, auth):
    auth.login("engineer1")
    response = client.get("/admin/")
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)
    auth.login("admin")
    assert client.get("/admin/").status_code == 200


def test_language_switch_is_remembered_for_the_user(client, auth, session):
    auth.login("pm")
    auth.post("/auth/language", {"locale": "en", "next": "/inbox/"})
    assert ">Inbox" in client.get("/inbox/").get_data(as_text=True)
    auth.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/inbox/"})
    page = client.get("/inbox/").get_data(as_text=True)
    assert ">收件箱" in page and 'lang="zh-CN"' in page
    session.expire_all()
    assert session.scalar(select(User.locale).where(User.username == "pm")) == "zh_Hans_CN"


def test_browser_language_chooses_the_default(client, auth):
    auth.login("leader")
    english = client.get("/inbox/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert ">Inbox" in english.get_data(as_text=True)
    chinese = client.get("/inbox/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert ">收件箱" in chinese.get_data(as_text=True)


def test_passwords_are_stored_only_as_hashes(session, people):
    stored = session.scalar(select(User.password_hash).where(User.username == "pm"))
    assert "correct-horse-1" not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
