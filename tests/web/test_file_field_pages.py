"""File fields on record pages: chosen files kept, refused with a message, downloaded by readers."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from andon import clock, sweeps
from andon.files import Attachment, UploadSettings, path_of, store
from andon.flows.models import Task
from andon.forms.models import Record

from .test_flow_pages import requested

PDF = b"%PDF-1.4 incident report"
NAME = "事故报告 第2版.pdf"


@pytest.fixture
def app(app):
    """The app with a 4 KB upload limit for the whole installation."""
    app.config["ANDON"].uploads = UploadSettings(folder=app.config["ANDON"].uploads.folder,
                                                 max_bytes=4096)
    return app


def with_files(definition):
    """Add a report (one PDF or image, at most 1 KB: 1/1024 MB) and evidence (several files)."""
    definition["schema"]["properties"].update(
        report={"type": "string"}, evidence={"type": "array", "items": {"type": "string"}})
    definition["layout"]["order"] += ["report", "evidence"]
    definition["layout"]["fields"].update(
        report={"label": {"en": "Report", "zh-CN": "报告"}, "widget": "file",
                "accept": [".pdf", "image/*"], "max_size_mb": 0.0009765625},
        evidence={"label": {"en": "Evidence", "zh-CN": "证据"}, "widget": "file",
                  "multiple": True})


@pytest.fixture
def form(people, deploy_issue):
    """Publish the issue form with its file fields."""
    deploy_issue(with_files)
    return people


def post(auth, url, fields, **chosen):
    """Post a form as multipart with files: name -> (bytes, filename) or a list of them."""
    data = dict(fields)
    for name, files in chosen.items():
        data[name] = [(io.BytesIO(content), filename) for content, filename in
                      (files if isinstance(files, list) else [files])]
    return auth.post(url, data, content_type="multipart/form-data")


def saved(session) -> Record:
    """Return the only record, fresh from the database."""
    session.expire_all()
    return session.scalar(select(Record))


def test_a_record_keeps_its_files_outside_the_row_and_lists_them(client, auth, form, session):
    auth.login("engineer1")
    page = client.get("/records/issue/new").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert 'type="file" id="input-report" name="report" accept=".pdf,image/*"' in page
    assert 'name="evidence" multiple' in page and "Up to 1 KB per file." in page
    assert 'id="field-title" hx-post' in page  # other fields are checked inline ...
    assert 'id="field-report">' in page  # ... a file field is not redrawn: it would lose the file

    response = post(auth, "/records/issue/new", {"title": "Disk full", "severity": "high"},
                    report=(PDF, NAME), evidence=[(b"a,b\n1,2\n", "data.csv"),
                                                  (b"log line", "app.log")])
    assert response.status_code == 302
    record = saved(session)
    by_name = {a.filename: a for a in session.scalars(select(Attachment))}
    assert record.data["report"] == str(by_name[NAME].id)
    assert record.data["evidence"] == [str(by_name["data.csv"].id), str(by_name["app.log"].id)]
    assert all(a.record_id == record.id for a in by_name.values())
    assert PDF not in repr(record.data).encode()

    page = client.get(response.location).get_data(as_text=True)
    assert f"/records/issue/{record.id}/files/{by_name[NAME].id}" in page
    assert NAME in page and "24 B" in page and "data.csv" in page


def test_a_file_too_big_or_of_the_wrong_type_is_refused_and_nothing_typed_is_lost(
        client, auth, form, session):
    auth.login("engineer1")
    response = post(auth, "/records/issue/new", {"title": "Printer jam", "severity": "low"},
                    report=(b"x" * 2000, "big.pdf"), evidence=(b"text", "notes.txt"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and saved(session) is None
    assert "Report: “big.pdf” was not attached: it is larger than the limit of 1 KB." in page
    assert 'value="Printer jam"' in page
    kept = session.scalar(select(Attachment).where(Attachment.filename == "notes.txt"))
    assert re.search(rf'name="evidence\[0\]" value="{kept.id}" checked', page)  # stays chosen

    response = post(auth, "/records/issue/new", {"title": "Printer jam", "severity": "low",
                                                 "evidence[0]": str(kept.id)},
                    report=(b"MZ binary", "setup.docx"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("Report: “setup.docx” was not attached: files of type .docx are not accepted "
            "here. Accepted: .pdf, image/*.") in page
    response = post(auth, "/records/issue/new", {"title": "Printer jam", "severity": "low",
                                                 "evidence[0]": str(kept.id)},
                    report=(b"\x89PNG image", "photo.png"))
    assert response.status_code == 302
    record = saved(session)
    assert record.data["evidence"] == [str(kept.id)] and record.data["report"].isdigit()


def test_an_edit_keeps_files_unless_unticked(client, auth, form, session):
    auth.login("engineer1")
    post(auth, "/records/issue/new", {"title": "VPN down", "severity": "high"},
         report=(PDF, "a.pdf"), evidence=[(b"one", "1.txt"), (b"two", "2.txt")])
    record = saved(session)
    edit = f"/records/issue/{record.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and "1.txt" in page
    first, second = record.data["evidence"]
    response = post(auth, edit, {"title": "VPN down again", "severity": "high", "version": "1",
                                 "report": record.data["report"], "evidence[1]": second},
                    evidence=(b"three", "3.txt"))
    assert response.status_code == 302
    after = saved(session)
    assert after.data["report"] == record.data["report"]
    assert after.data["evidence"][0] == second and len(after.data["evidence"]) == 2
    assert first not in after.data["evidence"]
    page = client.get(f"/records/issue/{record.id}").get_data(as_text=True)
    assert "3.txt" in page and "VPN down again" in page


def test_only_readers_of_the_record_download_its_files(client, auth, form, session,
                                                       deploy_issue):
    auth.login("engineer1")
    post(auth, "/records/issue/new", {"title": "Disk full", "severity": "high"},
         report=(PDF, NAME))
    record = saved(session)
    url = f"/records/issue/{record.id}/files/{record.data['report']}"
    got = client.get(url)
    assert got.status_code == 200 and got.data == PDF
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(NAME)}" in disposition
    assert all(ord(c) < 128 for c in disposition)
    got.close()

    assert client.get(f"/records/issue/{record.id}/files/999999").status_code == 404
    deploy_issue(lambda d: (with_files(d), d["layout"].update(records={"readers": ["leader"]})))
    auth.login("pm")
    assert client.get(url).status_code == 403
    auth.login("leader")
    got = client.get(url)
    assert got.status_code == 200
    got.close()


def test_another_users_file_cannot_be_claimed_by_its_id(client, auth, form, session):
    auth.login("engineer1")
    post(auth, "/records/issue/new", {"title": "Disk full", "severity": "high"},
         report=(PDF, "mine.pdf"))
    theirs = saved(session).data["report"]
    auth.login("engineer2")
    response = post(auth, "/records/issue/new", {"title": "Copy", "severity": "low",
                                                 "report": theirs})
    assert response.status_code == 422
    assert f"Choose the file again: file {theirs} is not one you chose in this field." in \
        response.get_data(as_text=True)


def test_an_html_file_is_never_served_as_a_page(client, auth, people, deploy_issue, session):
    deploy_issue(lambda d: (with_files(d), d["layout"]["fields"]["report"].pop("accept")))
    client.application.config["ANDON"].uploads = UploadSettings(
        folder=client.application.config["ANDON"].uploads.folder, max_bytes=4096,
        types=frozenset({"html", "pdf"}))
    auth.login("engineer1")
    post(auth, "/records/issue/new", {"title": "Page", "severity": "low"},
         report=(b"<script>alert(1)</script>", "page.html"))
    record = saved(session)
    got = client.get(f"/records/issue/{record.id}/files/{record.data['report']}")
    assert got.headers["Content-Type"] == "application/octet-stream"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    got.close()


def test_an_id_typed_into_a_post_does_not_reveal_a_file_name(client, auth, form, session):
    auth.login("engineer1")
    post(auth, "/records/issue/new", {"title": "", "severity": "high"},
         report=(PDF, "secret plan.pdf"))  # refused for its title: the file stays unclaimed
    secret = session.scalar(select(Attachment))
    auth.login("engineer2")
    response = post(auth, "/records/issue/new", {"title": "", "severity": "low",
                                                 "report": str(secret.id)})
    assert response.status_code == 422
    assert "secret plan" not in response.get_data(as_text=True)
    node = auth.post(f"/forms/{saved_version(session)}/node",
                     {"report": str(secret.id), "_node": ""})
    assert node.status_code == 200 and "secret plan" not in node.get_data(as_text=True)


def saved_version(session) -> int:
    """Return the id of the published issue form version."""
    from andon import catalog
    return catalog.current(session, "form", "issue").id


def test_exports_name_the_files_and_searches_ignore_their_ids(client, auth, form, session):
    auth.login("engineer1")
    post(auth, "/records/issue/new", {"title": "Disk full", "severity": "high"},
         report=(PDF, NAME), evidence=[(b"a,b\n1,2\n", "data.csv")])
    record = saved(session)
    assert record.data["report"] not in record.search_text
    found = client.get("/records/issue", query_string={"q": record.data["report"]})
    assert "Disk full" not in found.get_data(as_text=True)
    exported = client.get("/records/issue/export.csv").get_data(as_text=True)
    assert NAME in exported and "data.csv" in exported


def test_the_daily_sweep_deletes_only_old_uploads_nothing_claimed(client, auth, form, session,
                                                                  app):
    settings = app.config["ANDON"].uploads
    instance_id, task = requested(auth, session)
    pm, now = form["pm"], clock.now()
    with clock.frozen(now - timedelta(days=sweeps.KEEP_DAYS + 1)):
        abandoned = store(session, settings, io.BytesIO(b"abandoned"), "a.pdf", pm)
        shared = store(session, settings, io.BytesIO(b"same bytes"), "s1.pdf", pm)
        drafted = store(session, settings, io.BytesIO(b"in a draft"), "d.pdf", pm)
        claimed = store(session, settings, io.BytesIO(b"claimed"), "c.pdf", pm,
                        instance_id=instance_id)
    recent = store(session, settings, io.BytesIO(b"same bytes"), "s2.pdf", pm)
    session.get(Task, task.id).draft = {"report": str(drafted.id), "title": "x"}
    session.commit()

    assert sweeps.sweep_unclaimed(session, settings, now) == 2
    session.commit()
    left = {a.filename for a in session.scalars(select(Attachment))}
    assert left == {"d.pdf", "c.pdf", "s2.pdf"}
    assert not path_of(settings, abandoned.sha256).exists()
    assert path_of(settings, recent.sha256).exists()  # still used by the recent upload
    assert path_of(settings, shared.sha256) == path_of(settings, recent.sha256)
    assert path_of(settings, claimed.sha256).exists()
