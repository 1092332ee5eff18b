"""Task and instance actions through the pages."""

from __future__ import annotations

import re

from sqlalchemy import select

from andon.flows.models import FlowInstance, Task

REQUEST = {"title": "Nightly export", "project": "P", "reason": "The customer asked",
           "effort_days": "12", "customer_contact": "C"}


def started(auth, session) -> tuple[int, Task]:
    """Have engineer1 start a change request; return its id and the waiting task."""
    auth.login("engineer1")
    instance_id = int(auth.post("/start/change_request", REQUEST).location.rsplit("/", 1)[1])
    session.expire_all()
    task = session.scalar(select(Task).where(Task.instance_id == instance_id,
                                             Task.state == "open"))
    return instance_id, task


def test_a_draft_comes_back_when_the_task_is_opened_again(client, auth, session):
    _, review = started(auth, session)
    auth.login("pm")
    response = auth.post(f"/tasks/{review.id}/draft", {"comment": "Half written"})
    assert response.status_code == 302
    assert "Half written" in client.get(f"/tasks/{review.id}").get_data(as_text=True)


def test_transfer_from_the_task_page(client, auth, session):
    _, review = started(auth, session)
    auth.login("pm")
    page = client.get(f"/tasks/{review.id}").get_data(as_text=True)
    assert "Transfer to someone else" in page and 'value="engineer2"' in page
    refused = auth.post(f"/tasks/{review.id}/transfer", {"to": "engineer2", "reason": ""},
                        follow_redirects=True)
    assert "Please give a reason." in refused.get_data(as_text=True)
    auth.post(f"/tasks/{review.id}/transfer", {"to": "engineer2", "reason": "On leave"})
    auth.login("engineer2")
    assert f"/tasks/{review.id}" in client.get("/inbox/").get_data(as_text=True)


def test_send_back_and_the_timeline_says_why(client, auth, session):
    instance_id, review = started(auth, session)
    auth.login("pm")
    auth.post(f"/tasks/{review.id}", {"decision": "approve"})
    session.expire_all()
    approval = session.scalar(select(Task).where(Task.instance_id == instance_id,
                                                 Task.state == "open"))
    auth.login("director")
    auth.post(f"/tasks/{approval.id}/send-back", {"step": "submit",
                                                  "reason": "Split the effort"})
    auth.login("engineer1")
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert re.search(r"陈静 Chen Jing sent “Delivery director approval” back to "
                     r"“Describe the change”: Split the effort", page)
    session.expire_all()
    reopened = session.scalar(select(Task).where(Task.instance_id == instance_id,
                                                 Task.state == "open"))
    assert 'value="12"' in client.get(f"/tasks/{reopened.id}").get_data(as_text=True)


def test_comment_and_withdraw_from_the_instance_page(client, auth, session):
    instance_id, _ = started(auth, session)
    auth.post(f"/instances/{instance_id}/comment", {"text": "Also check the invoice"})
    page = client.get(f"/instances/{instance_id}").get_data(as_text=True)
    assert "李雷 Li Lei commented: Also check the invoice" in page and "Withdraw" in page
    auth.post(f"/instances/{instance_id}/withdraw", {"text": "Dropped by the customer"})
    session.expire_all()
    assert session.get(FlowInstance, instance_id).status == "withdrawn"


def test_only_admins_see_and_use_suspend(client, auth, session):
    instance_id, _ = started(auth, session)
    assert "Suspend" not in client.get(f"/instances/{instance_id}").get_data(as_text=True)
    refused = auth.post(f"/instances/{instance_id}/suspend", {"text": "x"}, follow_redirects=True)
    assert "Only an administrator may do this." in refused.get_data(as_text=True)
    auth.login("admin")
    auth.post(f"/instances/{instance_id}/suspend", {"text": "Contract on hold"})
    session.expire_all()
    assert session.get(FlowInstance, instance_id).status == "suspended"
    assert "Resume" in client.get(f"/instances/{instance_id}").get_data(as_text=True)
