"""Record pages: list with search, filters, sort and pages; new, detail, edit and stale edits."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from andon.forms.models import Record
from andon.forms.records import create_record

HTMX = {"HX-Request": "true"}


@pytest.fixture
def issues(session, people, deploy_issue):
    """Publish the issue form with four records by engineer1; return the people."""
    deploy_issue()
    for title, severity, loss, day in (("Disk full", "high", 9, "2026-03-01"),
                                       ("数据库连接超时", "low", 10, "2026-05-01"),
                                       ("Printer jam", "low", 100, "2026-07-01"),
                                       ("VPN down", "high", None, "2026-09-01")):
        values = {"title": title, "severity": severity, "found_on": day}
        if loss is not None:
            values["loss"] = loss
        create_record(session, "issue", values, people["engineer1"])
    session.commit()
    return people


def record_id(session, title: str) -> int:
    """Return the id of the record with a title."""
    session.expire_all()
    return next(r.id for r in session.scalars(select(Record)) if r.data["title"] == title)


def listed(page: str) -> list[str]:
    """Return the first-column values of the records table, top to bottom."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'\d+</a></td>\s*<td><a href="/records/issue/\d+">([^<]*)</a></td>', body)


def field_html(page: str, name: str) -> str:
    """Return the HTML of one field's wrapper div."""
    match = re.search(rf'<div[^>]*id="field-{name}".*?</div>', page, re.S)
    assert match, f"no field {name}"
    return match.group(0)


def test_the_list_searches_filters_and_sorts_as_a_whole_page(client, auth, issues):
    auth.login("pm")
    page = client.get("/records/issue?loss.ge=9.5&sort=loss").get_data(as_text=True)
    assert "<html" in page and 'name="q"' in page and 'name="loss.ge" value="9.5"' in page
    assert listed(page) == ["数据库连接超时", "Printer jam"]  # 10 < 100: numbers, not text
    page = client.get("/records/issue?q=连接").get_data(as_text=True)
    assert listed(page) == ["数据库连接超时"]
    page = client.get("/records/issue?found_on.le=2026-05-01&severity.in=high").get_data(
        as_text=True)
    assert listed(page) == ["Disk full"]
    assert 'value="high" checked' in page


def test_htmx_gets_only_the_table_with_links_that_keep_the_state(client, auth, issues):
    auth.login("pm")
    response = client.get("/records/issue?severity.in=low&sort=-loss", headers=HTMX)
    page = response.get_data(as_text=True)
    assert "<html" not in page and page.lstrip().startswith('<div id="record-table">')
    assert listed(page) == ["Printer jam", "数据库连接超时"]
    sort_link = re.search(r'<th aria-sort="descending">\s*<a href="([^"]*)" hx-get="[^"]*"'
                          r'\s+hx-target="#record-table"[^>]*hx-push-url="true">', page)
    assert sort_link and "severity.in=low" in sort_link.group(1)
    assert "sort=loss" in sort_link.group(1).replace("&amp;", "&")
    restored = client.get("/records/issue?severity.in=low",
                          headers={**HTMX, "HX-History-Restore-Request": "true"})
    assert "<html" in restored.get_data(as_text=True)  # going back shows the whole page


def test_pages_carry_the_filters(client, auth, issues, monkeypatch):
    from andon.web import records

    monkeypatch.setattr(records, "PAGE_SIZE", 1)
    auth.login("pm")
    page = client.get("/records/issue?severity.in=low&sort=loss").get_data(as_text=True)
    assert listed(page) == ["数据库连接超时"]
    next_url = re.search(r'<a href="([^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "severity.in=low" in next_url and "sort=loss" in next_url
    assert listed(client.get(next_url).get_data(as_text=True)) == ["Printer jam"]


def test_a_bad_filter_value_is_named_and_the_rest_still_applies(client, auth, issues):
    auth.login("pm")
    page = client.get("/records/issue?loss.ge=lots&severity.in=high", headers=HTMX).get_data(
        as_text=True)
    assert "Revenue loss: Enter a number." in page
    assert listed(page) == ["VPN down", "Disk full"]
    auth.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/"})
    page = client.get("/records/issue?loss.ge=lots").get_data(as_text=True)
    assert "收入损失: 请输入数字。" in page and "<legend>收入损失</legend>" in page


def test_a_new_record_keeps_what_was_typed_on_error_then_saves(client, auth, issues, session):
    auth.login("engineer2")
    response = auth.post("/records/issue/new", {"title": "Fan noise", "severity": "high",
                                                "loss": "abc", "note": "Since Monday"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a number." in field_html(page, "loss") and 'value="abc"' in field_html(
        page, "loss")
    assert "Since Monday" in page and 'value="Fan noise"' in field_html(page, "title")
    response = auth.post("/records/issue/new", {"title": "Fan noise", "severity": "high",
                                                "loss": "12.5", "recurring": "on"})
    assert response.status_code == 302
    record = session.get(Record, record_id(session, "Fan noise"))
    assert record.data == {"title": "Fan noise", "severity": "high", "loss": 12.5,
                           "recurring": True}
    assert response.location.endswith(f"/records/issue/{record.id}")


def test_the_detail_page_shows_labels_in_the_users_language_and_the_history(
        client, auth, issues, session):
    auth.login("engineer1")
    rid = record_id(session, "Disk full")
    page = client.get(f"/records/issue/{rid}/edit").get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', page).group(1)
    assert auth.post(f"/records/issue/{rid}/edit", {"title": "Disk full", "severity": "low",
                                                    "loss": "9", "found_on": "2026-03-01",
                                                    "version": version}).status_code == 302
    auth.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/"})
    page = client.get(f"/records/issue/{rid}").get_data(as_text=True)
    assert "<dt>严重程度</dt><dd>低</dd>" in page and "<dt>收入损失</dt><dd>9</dd>" in page
    assert "严重程度: <del>高</del> → <ins>低</ins>" in page


def test_a_stale_edit_shows_their_values_beside_mine_and_can_be_reapplied(
        client, auth, issues, session):
    rid = record_id(session, "Printer jam")
    auth.login("engineer1")
    page = client.get(f"/records/issue/{rid}/edit").get_data(as_text=True)
    assert 'name="version" value="1"' in page
    auth.login("admin")
    assert auth.post(f"/records/issue/{rid}/edit", {
        "title": "Printer jam", "severity": "high", "loss": "100", "found_on": "2026-07-01",
        "version": "1"}).status_code == 302
    auth.login("engineer1")
    mine = {"title": "Printer jam on floor 3", "severity": "low", "loss": "100",
            "found_on": "2026-07-01", "version": "1"}
    response = auth.post(f"/records/issue/{rid}/edit", mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Admin 管理员 changed this record while you were editing it." in page
    assert "<td>Severity</td><td>High</td><td>Low</td>" in page
    assert "<td>Title</td><td>Printer jam</td><td>Printer jam on floor 3</td>" in page
    assert 'value="Printer jam on floor 3"' in field_html(page, "title")
    assert 'name="version" value="2"' in page
    session.expire_all()
    assert session.get(Record, rid).data["severity"] == "high"  # nothing overwritten
    response = auth.post(f"/records/issue/{rid}/edit", {**mine, "version": "2"})
    assert response.status_code == 302
    session.expire_all()
    assert session.get(Record, rid).data["title"] == "Printer jam on floor 3"


def test_only_the_creator_or_an_admin_may_edit(client, auth, issues, session):
    rid = record_id(session, "VPN down")
    auth.login("engineer2")
    assert "/edit" not in client.get(f"/records/issue/{rid}").get_data(as_text=True)
    assert client.get(f"/records/issue/{rid}/edit").status_code == 403
    response = auth.post(f"/records/issue/{rid}/edit", {"title": "x", "severity": "low",
                                                        "version": "1"})
    assert response.status_code == 403
    session.expire_all()
    assert session.get(Record, rid).data["title"] == "VPN down"


def test_a_form_may_keep_its_records_to_some_roles(client, auth, issues, session,
                                                   deploy_issue):
    deploy_issue(lambda d: d["layout"].update(records={"readers": ["leader"]}))
    auth.login("pm")
    assert client.get("/records/issue").status_code == 403
    assert client.get(f"/records/issue/{record_id(session, 'VPN down')}").status_code == 403
    assert "/records/issue" not in client.get("/records/").get_data(as_text=True)
    auth.login("leader")
    assert listed(client.get("/records/issue").get_data(as_text=True))
