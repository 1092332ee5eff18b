"""File fields on start and task forms: the files join the instance's attachments."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from andon.files import Attachment, UploadSettings
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.forms.store import deploy_form

DATA = Path(__file__).resolve().parent.parent / "data" / "permissions"
REQUEST = {"title": "Chiller for site B", "cost": "48000", "supplier": "Haier"}
QUOTE = "报价单.pdf"


@pytest.fixture
def app(app):
    """The app with a 4 KB upload limit."""
    app.config["ANDON"].uploads = UploadSettings(folder=app.config["ANDON"].uploads.folder,
                                                 max_bytes=4096)
    return app


def with_file(name: str, key: str, entry: dict, prop: dict) -> str:
    """Return a form definition of the permissions case with one more (file) field."""
    definition = json.loads((DATA / name).read_text())
    definition["schema"]["properties"][key] = prop
    definition["layout"]["order"].append(key)
    definition["layout"]["fields"][key] = {"widget": "file", **entry}
    return json.dumps(definition, ensure_ascii=False)


@pytest.fixture
def flow(session, auth):
    """Deploy the purchase (with a PDF quote) and installation (with photos) flow."""
    deploy_form(session, with_file("purchase.json", "quote", {"accept": [".pdf"]},
                                   {"type": "string"}), "purchase.json")
    deploy_form(session, with_file("install.json", "photos", {"multiple": True},
                                   {"type": "array", "items": {"type": "string"}}),
                "install.json")
    deploy_flow(session, (DATA / "install.bpmn").read_bytes(), "install.bpmn")
    session.commit()


def post(auth, url, fields, name, files):
    """Post a form as multipart with files chosen in one field."""
    return auth.post(url, {**fields, name: [(io.BytesIO(c), n) for c, n in files]},
                     content_type="multipart/form-data")


def test_a_start_form_keeps_its_file_with_the_instance(client, auth, flow, session):
    auth.login("pm")
    page = client.get("/start/perm_install").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'accept=".pdf"' in page

    refused = post(auth, "/start/perm_install", REQUEST, "quote", [(b"MZ", "quote.exe")])
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and session.scalar(select(FlowInstance)) is None
    assert "“quote.exe” was not attached: files of type .exe are not accepted here." in text
    assert 'value="Chiller for site B"' in text

    started = post(auth, "/start/perm_install", REQUEST, "quote", [(b"%PDF quote", QUOTE)])
    assert started.status_code == 302
    session.expire_all()
    instance = session.scalar(select(FlowInstance))
    quote = session.scalar(select(Attachment))
    assert instance.data["quote"] == str(quote.id) and quote.instance_id == instance.id
    page = client.get(f"/instances/{instance.id}").get_data(as_text=True)
    assert QUOTE in page and f"/tasks/files/{quote.id}" in page

    got = client.get(f"/tasks/files/{quote.id}")
    assert got.status_code == 200 and got.data == b"%PDF quote"
    got.close()
    auth.login("director")  # may not see this flow
    assert client.get(f"/tasks/files/{quote.id}").status_code == 403


def test_a_task_form_adds_files_and_a_refused_one_completes_nothing(client, auth, flow,
                                                                    session):
    auth.login("pm")
    post(auth, "/start/perm_install", REQUEST, "quote", [(b"%PDF quote", QUOTE)])
    task = session.scalar(select(Task).where(Task.step_id == "install"))
    auth.login("engineer1")
    url = f"/tasks/{task.id}"
    assert 'name="photos" multiple' in client.get(url).get_data(as_text=True)

    response = post(auth, url, {"notes": "Mounted"}, "photos",
                    [(b"\x89PNG one", "one.png"), (b"x" * 5000, "huge.png")])
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“huge.png” was not attached: it is larger than the limit of 4 KB." in page
    assert "Mounted" in page and "one.png" in page  # typed text and the kept photo stay
    session.expire_all()
    assert session.get(Task, task.id).state == "open"
    one = session.scalar(select(Attachment).where(Attachment.filename == "one.png"))

    response = post(auth, url, {"notes": "Mounted", "photos[0]": str(one.id)}, "photos",
                    [(b"\x89PNG two", "two.png")])
    assert response.status_code == 302
    session.expire_all()
    done = session.get(Task, task.id)
    two = session.scalar(select(Attachment).where(Attachment.filename == "two.png"))
    assert done.state == "completed" and done.data["photos"] == [str(one.id), str(two.id)]
    assert (one.instance_id, one.task_id) == (done.instance_id, done.id)


def test_a_draft_keeps_the_chosen_files(client, auth, flow, session):
    auth.login("pm")
    post(auth, "/start/perm_install", REQUEST, "quote", [(b"%PDF quote", QUOTE)])
    task = session.scalar(select(Task).where(Task.step_id == "install"))
    auth.login("engineer1")
    saved = post(auth, f"/tasks/{task.id}/draft", {"notes": "Half done"}, "photos",
                 [(b"\x89PNG one", "wall.png")])
    assert saved.status_code == 302
    page = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert "Half done" in page and "wall.png" in page
