"""The flow designer's pages: drafts saved by revision, the panel, publishing and migration."""

from __future__ import annotations

import html
import io
import json
import re

from sqlalchemy import select

from andon import catalog
from andon.flows import designer, step_panel
from andon.flows.models import FlowInstance

from .test_flow_pages import requested

HX = {"HX-Request": "true"}
PAGE = "/admin/flows/purchase/"


def text(response) -> str:
    """Return a response's HTML with entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def draft(client, url: str = PAGE) -> tuple[str, str]:
    """Return the draft's XML and revision as the modeller loads them."""
    answer = client.get(f"{url}draft.bpmn")
    return answer.get_data(as_text=True), answer.headers["X-Draft-Revision"]


def panel(auth, client, element: str, url: str = PAGE, **inputs: str):
    """Post the panel of an element with the modeller's XML, as the page does."""
    xml, revision = draft(client, url)
    values = {**step_panel.view(xml, element).values, **inputs}
    return auth.post(f"{url}panel", {**values, "element": element, "xml": xml,
                                       "revision": revision}, headers=HX)


def test_a_flow_is_created_drawn_configured_and_published(auth, client, session):
    auth.login("admin")
    created = auth.post("/admin/flows/", {"key": "purchase", "title_en": "Purchase",
                                          "title_zh": "采购", "template": "linear_approval"})
    assert created.status_code == 302 and created.location.endswith(PAGE)
    page = text(client.get(PAGE))
    assert "bpmn-modeler.production.min.js" in page and 'data-revision="1"' in page
    assert "A user task needs a 'form' property" in page  # the first step has no form yet

    xml, revision = draft(client)
    moved = xml.replace('x="160"', 'x="170"', 1)
    saved = auth.post(f"{PAGE}draft", {"xml": moved, "revision": revision})
    assert saved.status_code == 200 and saved.json["revision"] == int(revision) + 1
    stale = auth.post(f"{PAGE}draft", {"xml": xml, "revision": revision})
    assert stale.status_code == 409 and "Someone else saved this draft" in stale.json["conflict"]
    broken = auth.post(f"{PAGE}draft", {"xml": "<bpmn:definitions", "revision": revision})
    assert broken.status_code in (409, 422)

    shown = text(client.get(f"{PAGE}panel", query_string={"element": "request"}))
    assert 'id="panel-form"' in shown and 'id="panel-owner"' in shown
    refused = panel(auth, client, "request", form="change_request", owner="nobody:here",
                    deadline_mode="duration", deadline="soon")
    assert refused.status_code == 422
    page = text(refused)
    assert "This owner rule is not valid" in page and 'value="soon"' in page
    applied = panel(auth, client, "request", form="change_request", owner="starter")
    assert applied.status_code == 200
    assert json.loads(applied.headers["HX-Trigger"])["andon:panel-saved"]["element"] == "request"
    assert 'id="designer-problems" hx-swap-oob="innerHTML"' in text(applied)
    assert "No problems" in text(applied)

    check = text(auth.post(f"{PAGE}condition", {"condition": "decison == 'x'"}))
    assert "decison" in check and "condition-ok" not in check
    assert "condition-ok" in text(auth.post(f"{PAGE}condition",
                                            {"condition": "effort_days > 10"}))

    _, revision = draft(client)
    review = auth.post(f"{PAGE}publish", {"revision": revision})
    assert review.status_code == 200 and "A first version" in text(review)
    done = auth.post(f"{PAGE}publish/confirm", {"revision": revision}, follow_redirects=True)
    assert "Version 1 of the flow is published" in text(done)
    assert catalog.current(session, "flow", "purchase").created_by.username == "admin"
    exported = client.get(f"{PAGE}versions/1.bpmn")
    assert exported.headers["Content-Disposition"] == 'attachment; filename="purchase-v1.bpmn"'
    edited = auth.post(f"{PAGE}versions/1/edit", follow_redirects=True)
    assert "Version 1 is now the draft." in text(edited) and "based on version 1" in text(edited)
    assert draft(client)[0] == exported.get_data(as_text=True)


def test_publishing_moves_only_the_chosen_waiting_instances(auth, client, session):
    first, _ = requested(auth, session)
    second, _ = requested(auth, session, title="Second request")
    auth.login("admin")
    url = "/admin/flows/change_request/"
    assert "No changes yet" in text(client.get(url))
    xml, revision = draft(client, url)
    assert revision == "0" and catalog.draft(session, "flow", "change_request") is None
    renamed = xml.replace('name="Project manager review"', 'name="PM review"')
    revision = str(auth.post(f"{url}draft", {"xml": renamed, "revision": revision})
                   .json["revision"])
    review = text(auth.post(f"{url}publish", {"revision": revision}))
    assert "What changes from version 1" in review and "PM review" in review
    assert re.search(r'name="move" value="1:pm_review"', review)
    done = auth.post(f"{url}publish/confirm", {"revision": revision, "move": "1:pm_review"},
                     follow_redirects=True)
    assert "2 instances moved to the new version" in text(done)
    session.expire_all()
    versions = {i.id: i.version.number for i in session.scalars(select(FlowInstance).where(
        FlowInstance.id.in_((first, second))))}
    assert versions == {first: 2, second: 2}
    timeline = text(client.get(f"/instances/{first}"))
    assert "Admin 管理员 moved the flow from version 1 to version 2" in timeline


def test_a_refused_publish_keeps_the_draft(auth, client, session):
    auth.login("admin")
    auth.post("/admin/flows/", {"key": "purchase", "title_en": "Purchase",
                                "template": "linear_approval"})
    _, revision = draft(client)
    refused = auth.post(f"{PAGE}publish", {"revision": revision}, follow_redirects=True)
    assert "The flow was not published: fix the problems listed first." in text(refused)
    assert catalog.versions_of(session, "flow", "purchase") == []
    assert catalog.draft(session, "flow", "purchase") is not None


def test_imports_are_refused_by_line_and_members_are_kept_out(auth, client):
    auth.login("admin")
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>'
    refused = auth.post("/admin/flows/import", {"file": (io.BytesIO(evil),
                                                         "evil.bpmn")},
                        content_type="multipart/form-data")
    assert refused.status_code == 422 and "DOCTYPE" in text(refused)
    good = designer.new_xml("countersign", "visit", {"en": "Visit"}).encode()
    imported = auth.post("/admin/flows/import", {"file": (io.BytesIO(good),
                                                          "visit.bpmn")},
                         content_type="multipart/form-data")
    assert imported.status_code == 302 and imported.location.endswith("/admin/flows/visit/")
    auth.login("engineer1")
    assert client.get("/admin/flows/").status_code == 403
    assert client.get("/admin/flows/visit/draft.bpmn").status_code == 403
