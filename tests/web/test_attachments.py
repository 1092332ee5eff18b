"""Files attached on the task page: uploaded, listed, downloaded only by those who may see."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import quote

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import stream_encode_multipart

from andon.files import Attachment, UploadSettings
from andon.flows.models import Task

REQUEST = {"title": "Nightly export", "project": "P", "reason": "The customer asked",
           "effort_days": "12", "customer_contact": "C"}
NAME = "验收报告 v2.pdf"
CONTENT = b"%PDF-1.4 acceptance report"


@pytest.fixture
def app(app):
    """The app with a 1 KB upload limit, so that a larger file is refused."""
    app.config["ANDON"].uploads = UploadSettings(folder=app.config["ANDON"].uploads.folder,
                                                 max_bytes=1024)
    return app


def review_task(auth, session) -> Task:
    """Have engineer1 start a change request and pm open the review; return the task."""
    auth.login("engineer1")
    instance_id = int(auth.post("/start/change_request", REQUEST).location.rsplit("/", 1)[1])
    session.expire_all()
    auth.login("pm")
    return session.scalar(select(Task).where(Task.instance_id == instance_id,
                                             Task.state == "open"))


def upload(auth, task, name, content, headers=None, **fields):
    return auth.post(f"/tasks/{task.id}/attachments",
                     {**fields, "attachment": (io.BytesIO(content), name)},
                     content_type="multipart/form-data", headers=headers or {})


def test_a_file_is_attached_listed_and_downloaded_with_its_chinese_name(client, auth, session):
    task = review_task(auth, session)
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="task-form"' in page and 'name="attachment" form="task-form"' in page
    assert upload(auth, task, NAME, CONTENT, comment="Looks fine").status_code == 302

    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert NAME in page and "Looks fine" in page  # the typed comment came back as a draft
    instance_page = client.get(f"/instances/{task.instance_id}").get_data(as_text=True)
    assert NAME in instance_page and f"王芳 Wang Fang attached “{NAME}”" in instance_page

    session.expire_all()
    attachment = session.scalar(select(Attachment))
    assert attachment.sha256 == hashlib.sha256(CONTENT).hexdigest()
    got = client.get(f"/tasks/files/{attachment.id}")
    assert got.status_code == 200 and got.data == CONTENT
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    disposition = got.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(NAME)}" in disposition
    got.close()


def test_someone_who_may_not_see_the_flow_cannot_download(client, auth, session):
    task = review_task(auth, session)
    upload(auth, task, "plan.xlsx", b"PK\x03\x04 sheet")
    session.expire_all()
    attachment = session.scalar(select(Attachment))
    auth.login("engineer2")
    assert client.get(f"/tasks/files/{attachment.id}").status_code == 403
    auth.login("engineer1")  # the starter may
    got = client.get(f"/tasks/files/{attachment.id}")
    assert got.status_code == 200
    got.close()


def test_a_too_large_or_refused_file_is_named_and_the_typed_text_stays(client, auth, session):
    task = review_task(auth, session)
    large = upload(auth, task, "日志.txt", b"x" * 2000, comment="Half written")
    page = large.get_data(as_text=True)
    assert large.status_code == 422
    assert "“日志.txt” was not attached: it is larger than the limit of 1 KB." in page
    assert "Half written" in page

    refused = upload(auth, task, "tool.exe", b"MZ", comment="Still here")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "“tool.exe” was not attached" in page
    assert "files of type .exe are not accepted" in page and "Still here" in page
    session.expire_all()
    assert session.scalar(select(Attachment)) is None


def test_htmx_upload_returns_the_list_alone(client, auth, session):
    task = review_task(auth, session)
    answer = upload(auth, task, "notes.csv", b"a,b\n1,2\n", headers={"HX-Request": "true"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and html.lstrip().startswith('<section class="card')
    assert "notes.csv" in html and "<html" not in html


def test_an_upload_may_be_larger_than_other_requests(app, client, auth, session):
    folder = app.config["ANDON"].uploads.folder
    app.config["ANDON"].uploads = UploadSettings(folder=folder, max_bytes=4 * 1024 * 1024)
    assert app.config["MAX_CONTENT_LENGTH"] < 3 * 1024 * 1024
    task = review_task(auth, session)
    big = FileStorage(io.BytesIO(b"x" * (3 << 20)), filename="大文件.zip")
    body = {"csrf_token": auth.csrf(), "attachment": big}
    stream, length, boundary = stream_encode_multipart(body)
    with stream:  # the test client would leave a body this large open
        answer = client.post(f"/tasks/{task.id}/attachments", input_stream=stream,
                             content_length=length,
                             content_type=f"multipart/form-data; boundary={boundary}")
    assert answer.status_code == 302
    assert "大文件.zip" in client.get(f"/tasks/{task.id}").get_data(as_text=True)


def test_a_file_far_over_the_limit_gets_the_task_page_naming_the_limit(client, auth, session):
    task = review_task(auth, session)
    body = {"csrf_token": auth.csrf(), "comment": "typed",
            "attachment": FileStorage(io.BytesIO(b"x" * (2 << 20)), filename="huge.zip")}
    stream, length, boundary = stream_encode_multipart(body)
    with stream:
        answer = client.post(f"/tasks/{task.id}/attachments", input_stream=stream,
                             content_length=length,
                             content_type=f"multipart/form-data; boundary={boundary}")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 413 and 'id="task-form"' in page
    assert "The file was not attached: it is larger than the limit of 1 KB." in page
