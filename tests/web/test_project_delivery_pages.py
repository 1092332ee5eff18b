"""The demo's project delivery through the pages: the project, the task, the designer."""

from __future__ import annotations

import html

from sqlalchemy import select

from andon.demo import seed_delivery
from andon.flows.models import FlowInstance, Task

URL = "/admin/flows/project_delivery/"


def text(response) -> str:
    """Return a response's HTML with entities decoded, after checking it is a page."""
    assert response.status_code == 200, response.status_code
    return html.unescape(response.get_data(as_text=True))


def seeded(session, people) -> FlowInstance:
    """Seed the demo's projects and delivery; return the delivery."""
    assert seed_delivery(session, people) == 1
    session.commit()
    return session.scalar(select(FlowInstance).where(FlowInstance.title.like("%Delivery%")))


def test_the_demo_delivery_waits_at_the_build_with_its_project_shown(auth, client, session,
                                                                      people):
    delivery = seeded(session, people)
    build = session.scalar(select(Task).where(Task.instance_id == delivery.id,
                                              Task.state == "open"))
    assert (build.step_id, build.assignee.username) == ("build", "engineer1")
    auth.login("engineer1")
    task = text(client.get(f"/tasks/{build.id}"))
    assert f"#{delivery.data['project']}" in task and "What was done" in task
    record = text(client.get(f"/records/project/{delivery.data['project']}"))
    assert "PRJ-2026-014" in record and "¥2,400,000.00" in record and "28%" in record
    auth.login("pm")
    start = text(client.get("/start/project_delivery"))
    assert all(label in start for label in ("Delivery director", "Technical lead", "Test lead"))


def test_the_designers_publish_review_shows_the_running_delivery(auth, client, session, people):
    seeded(session, people)
    auth.login("admin")
    assert "Project delivery" in text(client.get(URL))
    answer = client.get(f"{URL}draft.bpmn")
    xml, revision = answer.get_data(as_text=True), answer.headers["X-Draft-Revision"]
    longer = xml.replace('name="deadline" value="P20D"', 'name="deadline" value="P25D"')
    saved = auth.post(f"{URL}draft", {"xml": longer, "revision": revision})
    review = text(auth.post(f"{URL}publish", {"revision": str(saved.json["revision"])}))
    assert 'name="move" value="1:build"' in review
