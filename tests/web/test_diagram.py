"""The diagram endpoint: an instance's BPMN source and the state of each step."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from andon.database import utcnow
from andon.flows.models import FlowInstance, Task

REQUEST = {"title": "Nightly export", "project": "PRJ-7", "reason": "The customer asked",
           "scope_change": "One more job", "effort_days": "12", "cost_impact": "5000",
           "schedule_impact_days": "2", "customer_contact": "Liu Yang"}


def start(auth) -> int:
    """Have engineer1 request a change; return the instance id."""
    auth.login("engineer1")
    response = auth.post("/start/change_request", REQUEST)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.location.rsplit("/", 1)[1])


def test_diagram_gives_the_versions_bpmn_with_submit_done_and_review_waiting(
        client, auth, session):
    instance_id = start(auth)
    response = client.get(f"/instances/{instance_id}/diagram")
    assert response.status_code == 200
    assert response.is_json
    body = response.get_json()
    instance = session.get(FlowInstance, instance_id)
    assert body["xml"] == instance.version.source
    assert 'bpmnElement="pm_review"' in body["xml"]  # the shipped flow carries its layout
    assert body["steps"] == {"submit": "completed", "pm_review": "active"}


def test_a_review_past_its_deadline_is_overdue(client, auth, session):
    instance_id = start(auth)
    review = session.scalar(select(Task).where(Task.instance_id == instance_id,
                                               Task.state == "open"))
    review.due_at = utcnow() - timedelta(minutes=1)
    session.commit()
    body = client.get(f"/instances/{instance_id}/diagram").get_json()
    assert body["steps"] == {"submit": "completed", "pm_review": "overdue"}


def test_only_people_who_may_see_the_instance_get_its_diagram(client, auth):
    instance_id = start(auth)
    auth.post("/auth/logout")
    auth.login("engineer2")
    assert client.get(f"/instances/{instance_id}/diagram").status_code == 403
    assert client.get(f"/instances/{instance_id + 1000}/diagram").status_code == 404


def test_diagram_needs_a_signed_in_user(client, auth):
    instance_id = start(auth)
    auth.post("/auth/logout")
    response = client.get(f"/instances/{instance_id}/diagram")
    assert response.status_code in (302, 401)
