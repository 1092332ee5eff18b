"""Task and instance actions: release, transfer, send back, drafts, comments, withdraw, admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from andon import jobs
from andon.audit import history
from andon.database import utcnow
from andon.errors import AndonError, Conflict, Forbidden
from andon.flows import actions, queries, runtime
from andon.flows.models import FlowInstance, Task
from andon.notifications.models import Notification

REQUEST = {"title": "Export", "project": "P", "reason": "Customer asked", "effort_days": "20",
           "customer_contact": "C"}


@pytest.fixture
def instance(session, people) -> FlowInstance:
    """Return a change request waiting for the project managers' review."""
    started = runtime.start_instance(session, "change_request", people["engineer1"], REQUEST)
    session.commit()
    return started


def waiting(instance: FlowInstance) -> Task:
    """Return the instance's one open task."""
    (task,) = [t for t in instance.tasks if t.state == "open"]
    return task


def events(session, instance) -> list[str]:
    """Return the kinds of the instance's timeline events."""
    return [event.kind for event in history(session, "instance", instance.id)]


def test_a_claimed_task_can_be_released_to_the_group(session, people, instance):
    review = waiting(instance)
    runtime.claim_task(session, review.id, people["pm"])
    actions.release(session, review.id, people["pm"])
    session.commit()
    assert review.assignee_id is None and review.candidate_group.key == "project-managers"
    assert "task.released" in events(session, instance)


def test_transfer_needs_a_reason_and_tells_the_new_owner(session, people, instance):
    review = waiting(instance)
    with pytest.raises(AndonError, match="reason"):
        actions.transfer(session, review.id, people["pm"], people["engineer2"], "  ")
    actions.transfer(session, review.id, people["pm"], people["engineer2"], "On leave")
    session.commit()
    assert review.assignee.username == "engineer2"
    assert [t.id for t in session.scalars(queries.inbox(people["engineer2"]))] == [review.id]
    assert list(session.scalars(queries.inbox(people["pm"]))) == []
    (note,) = session.scalars(select(Notification).where(Notification.kind == "transfer"))
    assert note.user_id == people["engineer2"].id
    (event,) = [e for e in history(session, "instance", instance.id)
                if e.kind == "task.transferred"]
    assert event.detail["reason"] == "On leave" and event.actor.username == "pm"
    with pytest.raises(Forbidden):  # no longer the pm's to act on
        actions.transfer(session, review.id, people["pm"], people["director"], "again")


def test_send_back_reopens_the_earlier_step_with_its_last_submission(session, people, instance):
    runtime.complete_task(session, waiting(instance).id, people["pm"], {"decision": "approve"})
    approval = waiting(instance)
    assert approval.step_id == "director_approval"
    assert [t.step_id for t in actions.earlier_steps(approval)] == ["pm_review", "submit"]
    reopened = actions.send_back(session, approval.id, people["director"], "submit",
                                 "Please split the effort into development and deployment")
    session.commit()
    assert reopened.step_id == "submit" and reopened.assignee.username == "engineer1"
    assert reopened.draft["reason"] == "Customer asked" and reopened.draft["effort_days"] == "20"
    assert approval.state == "cancelled"
    assert "task.sent_back" in events(session, instance)
    runtime.complete_task(session, reopened.id, people["engineer1"], {**REQUEST,
                                                                      "effort_days": "8"})
    assert waiting(instance).step_id == "pm_review"  # the flow runs on from there


def test_a_draft_keeps_what_was_typed_without_checking_it(session, people, instance):
    review = waiting(instance)
    actions.save_draft(session, review.id, people["pm"], {"comment": "half a thought",
                                                          "csrf_token": "x"})
    session.commit()
    assert review.draft == {"comment": "half a thought"} and review.state == "open"


def test_comments_are_for_people_who_may_see_the_instance(session, people, instance):
    actions.comment(session, instance, people["pm"], "Which release is this for?")
    with pytest.raises(Forbidden):
        actions.comment(session, instance, people["engineer2"], "Let me in")
    (event,) = [e for e in history(session, "instance", instance.id) if e.kind == "comment"]
    assert event.detail["text"] == "Which release is this for?"


def test_withdraw_stops_everything_and_only_the_starter_or_an_admin_may(session, people,
                                                                        instance):
    review = waiting(instance)
    with pytest.raises(Forbidden):
        actions.withdraw(session, instance, people["pm"], "Not mine")
    actions.withdraw(session, instance, people["engineer1"], "The customer dropped it")
    session.commit()
    assert instance.status == "withdrawn" and review.state == "cancelled"
    assert set(session.scalars(select(jobs.WorkItem.state).where(
        jobs.WorkItem.instance_id == instance.id))) == {"cancelled"}
    with pytest.raises(Conflict):
        actions.withdraw(session, instance, people["admin"], "again")


def test_suspended_flows_hold_their_tasks_and_escalations(session, people, instance, engine):
    from andon.flows.escalations import remind

    review = waiting(instance)
    with pytest.raises(Forbidden):
        actions.suspend(session, instance, people["pm"], "Waiting for the contract")
    actions.suspend(session, instance, people["admin"], "Waiting for the contract")
    session.commit()
    with pytest.raises(Conflict, match="not running"):
        runtime.complete_task(session, review.id, people["pm"], {"decision": "approve"})
    item = session.scalar(select(jobs.WorkItem).where(jobs.WorkItem.kind == "remind"))
    now = utcnow()
    with pytest.raises(jobs.Postpone) as held:
        remind(session, item, now)
    assert held.value.until == now + timedelta(hours=1)
    actions.resume(session, instance, people["admin"])
    runtime.complete_task(session, review.id, people["pm"], {"decision": "approve"})
    assert events(session, instance).count("instance.suspended") == 1
    assert "instance.resumed" in events(session, instance)


def test_a_failed_instance_can_be_retried_by_an_admin(session, people, instance):
    instance.status = "failed"
    session.commit()
    with pytest.raises(Forbidden):
        actions.retry(session, instance, people["engineer1"])
    actions.retry(session, instance, people["admin"])
    session.commit()
    assert instance.status == "running" and "instance.retried" in events(session, instance)


def test_after_a_send_back_only_steps_on_the_new_path_are_offered(session, people, instance):
    runtime.complete_task(session, waiting(instance).id, people["pm"], {"decision": "approve"})
    reopened = actions.send_back(session, waiting(instance).id, people["director"], "submit",
                                 "Split the effort")
    session.commit()
    assert actions.earlier_steps(reopened) == []  # pm_review was undone by the send back
    with pytest.raises(Conflict):
        actions.send_back(session, reopened.id, people["engineer1"], "pm_review", "again")
