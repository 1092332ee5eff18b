"""Import records from an .xlsx in steps and export lists, through the pages, in both languages."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from andon.audit import AuditEvent
from andon.forms.models import Record
from andon.forms.records import create_record
from andon.forms.store import deploy_form

ISSUE = Path(__file__).resolve().parent.parent / "data" / "records" / "issue.json"
HTMX = {"HX-Request": "true"}


def xlsx(*rows) -> bytes:
    """Return an .xlsx holding the rows (the first is the header row)."""
    book = Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SHEET = xlsx(["标题", "严重程度", "Revenue loss", "发现日期", "Comments"],
             ["磁盘已满", "高", 1200.5, datetime(2026, 3, 1), "ignored"],
             ["", "低", "abc", "2026-04-01", None],
             ["Fan noise", "low", 3, date(2026, 5, 2), None],
             ["Bad option", "urgent", -1, None, None])


@pytest.fixture
def issue(session, people):
    """Publish the issue form; return the people."""
    deploy_form(session, ISSUE.read_text(), "issue.json")
    session.commit()
    return people


def count(session) -> int:
    """Return how many records exist."""
    session.expire_all()
    return session.scalar(select(func.count(Record.id)))


def upload(auth, content: bytes = SHEET, name: str = "问题.xlsx"):
    """Post a workbook to the import form."""
    return auth.post("/records/issue/import", {"sheet": (io.BytesIO(content), name)},
                     content_type="multipart/form-data")


def test_the_whole_import_without_javascript(client, auth, issue, session):
    auth.login("engineer1")
    response = upload(auth)
    assert response.status_code == 302
    mapping_url = response.headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert "4 rows to import" in page
    assert re.search(r'name="column-0">.*?<option value="title" selected>', page, re.S)
    assert re.search(r'name="column-2">.*?<option value="loss" selected>', page, re.S)
    assert re.search(r'name="column-4">\s*<option value="">Ignore</option>\s*<option value='
                     r'"title">', page)  # an unknown header maps to nothing
    assert count(session) == 0
    response = auth.post(mapping_url, {"column-0": "title", "column-1": "severity",
                                       "column-2": "loss", "column-3": "found_on"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/report")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<html" in page and "2 valid rows" in page and "2 invalid rows" in page
    assert "<li>Title: This field is required.</li>" in page
    assert "<li>Revenue loss: Enter a number.</li>" in page
    assert "<li>Severity: Choose one of the listed options.</li>" in page
    assert count(session) == 0  # nothing before confirm
    response = auth.post(mapping_url + "/confirm")
    assert response.status_code == 302 and response.headers["Location"] == "/records/issue"
    page = client.get("/records/issue").get_data(as_text=True)
    assert "2 records imported from “问题.xlsx”." in page and "2 invalid rows were not" in page
    session.expire_all()
    records = {r.data["title"]: r for r in session.scalars(select(Record))}
    assert records["磁盘已满"].data == {"title": "磁盘已满", "severity": "high", "loss": 1200.5,
                                     "found_on": "2026-03-01"}
    assert records["Fan noise"].data["found_on"] == "2026-05-02"
    events = session.scalars(select(AuditEvent).where(AuditEvent.kind == "record.imported"))
    assert [e.detail["count"] for e in events] == [2]
    shown = client.get(f"/records/issue/{records['Fan noise'].id}").get_data(as_text=True)
    assert "imported the record from Excel" in shown
    assert client.get(mapping_url).status_code == 404  # the upload is gone once imported


def test_with_htmx_the_report_comes_under_the_mapping_and_invalid_rows_download(
        client, auth, issue, session):
    auth.login("engineer1")
    mapping_url = upload(auth).headers["Location"]
    response = auth.post(mapping_url, {"column-0": "title", "column-1": "severity",
                                       "column-2": "loss", "column-3": "found_on"},
                         headers=HTMX)
    part = response.get_data(as_text=True)
    assert "<html" not in part and part.lstrip().startswith('<section class="card import-report"')
    assert "2 valid rows" in part and "Import 2 valid rows" in part
    link = re.search(r'href="([^"]*invalid.xlsx)"', part).group(1)
    download = client.get(link)
    assert download.headers["Content-Disposition"].startswith("attachment;")
    rows = list(load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True))
    assert rows[0] == ("标题", "严重程度", "Revenue loss", "发现日期", "Comments", "Errors")
    assert [r[0] for r in rows[1:]] == [None, "Bad option"]
    assert rows[1][5] == "Title: This field is required.; Revenue loss: Enter a number."
    assert count(session) == 0


def test_required_fields_left_unmapped_are_flagged_and_nothing_can_be_imported(
        client, auth, issue, session):
    auth.login("engineer1")
    mapping_url = upload(auth, xlsx(["Headline", "Severity"], ["x", "low"])).headers["Location"]
    page = client.get(mapping_url).get_data(as_text=True)
    assert "Required fields without a column: Title." in page
    response = auth.post(mapping_url, {"column-0": "severity", "column-1": "severity"})
    assert response.status_code == 422 and ("Each field can take one column only; chosen more "
                                            "than once: Severity.") in response.get_data(
        as_text=True)
    part = auth.post(mapping_url, {"column-0": "severity", "column-1": "severity"}, headers=HTMX)
    assert part.get_data(as_text=True).startswith('<p class="field-error" role="alert">Each')
    auth.post(mapping_url, {"column-1": "severity"})
    page = client.get(mapping_url + "/report").get_data(as_text=True)
    assert "0 valid rows" in page and "Import 0" not in page
    response = auth.post(mapping_url + "/confirm")
    assert response.status_code == 302 and count(session) == 0


def test_refused_files_are_explained_and_another_person_cannot_open_an_upload(
        client, auth, issue, monkeypatch):
    from andon.forms import excel

    auth.login("engineer1")
    response = upload(auth, xlsx(["a"], ["b"]), "macro.xlsm")
    assert response.status_code == 422
    assert "macros (.xlsm), which is not accepted" in response.get_data(as_text=True)
    monkeypatch.setattr(excel, "MAX_BYTES", 1024 * 1024)
    body = {"csrf_token": auth.csrf(), "sheet": FileStorage(io.BytesIO(b"x" * (3 << 20)),
                                                            filename="huge.xlsx")}
    stream, length, boundary = stream_encode_multipart(body)
    with stream:
        response = client.post("/records/issue/import", input_stream=stream,
                               content_length=length,
                               content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "larger than the limit of 1 MB" in response.get_data(as_text=True)
    monkeypatch.undo()
    mapping_url = upload(auth).headers["Location"]
    auth.post("/auth/logout")
    auth.login("engineer2")
    assert client.get(mapping_url).status_code == 404


def test_chinese_reader_sees_chinese_labels_and_errors(client, auth, issue):
    auth.login("engineer1")
    auth.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/"})
    mapping_url = upload(auth).headers["Location"]
    auth.post(mapping_url, {"column-0": "title", "column-1": "severity", "column-2": "loss"})
    page = client.get(mapping_url + "/report").get_data(as_text=True)
    assert "<li>收入损失: 请输入数字。</li>" in page and "<li>标题: " in page


@pytest.fixture
def listed(issue, session):
    """Add three issues; return the people."""
    for title, severity, loss, day in (("Disk full", "high", 9, "2026-03-01"),
                                       ("数据库连接超时", "low", 10.5, "2026-05-01"),
                                       ("Printer jam", "low", 100, "2026-07-01")):
        create_record(session, "issue", {"title": title, "severity": severity, "loss": loss,
                                         "found_on": day, "recurring": True}, issue["engineer1"])
    session.commit()
    return issue


def test_export_links_carry_the_filters_and_export_every_matching_row_typed(
        client, auth, listed, monkeypatch):
    from andon.web import records

    monkeypatch.setattr(records, "PAGE_SIZE", 1)
    auth.login("pm")
    page = client.get("/records/issue?severity.in=low&sort=loss&page=2",
                      headers=HTMX).get_data(as_text=True)
    link = re.search(r'href="([^"]*export.xlsx[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "severity.in=low" in link and "sort=loss" in link and "page=" not in link
    response = client.get(link)
    assert response.mimetype.endswith("spreadsheetml.sheet")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows == [("Title", "Severity", "Revenue loss", "Found on", "Recurring", "Note"),
                    ("数据库连接超时", "Low", 10.5, datetime(2026, 5, 1), True, None),
                    ("Printer jam", "Low", 100, datetime(2026, 7, 1), True, None)]


def test_csv_export_has_a_bom_chinese_labels_and_the_search(client, auth, listed):
    auth.login("pm")
    auth.post("/auth/language", {"locale": "zh_Hans_CN", "next": "/"})
    response = client.get("/records/issue/export.csv?q=连接")
    assert response.mimetype == "text/csv"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == [
        ["标题", "严重程度", "收入损失", "发现日期", "反复出现", "备注"],
        ["数据库连接超时", "低", "10.5", "2026-05-01", "是", ""]]


def test_export_respects_who_may_read_and_the_row_cap(client, auth, listed, session,
                                                      monkeypatch):
    from andon.forms import exports

    definition = json.loads(ISSUE.read_text())
    definition["layout"]["records"] = {"readers": ["leader"]}
    auth.login("engineer1")
    monkeypatch.setattr(exports, "MAX_EXPORT_ROWS", 2)
    response = client.get("/records/issue/export.csv")
    assert response.status_code == 400
    assert "This list has 3 records; an export holds at most 2." in response.get_data(
        as_text=True)
    assert client.get("/records/issue/export.csv?severity.in=low").status_code == 200
    deploy_form(session, json.dumps(definition), "issue.json")
    session.commit()
    assert client.get("/records/issue/export.xlsx").status_code == 403
    assert client.get("/records/issue/import").status_code == 403
