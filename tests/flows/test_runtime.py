"""The change request flow run through the runtime with a session and no HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon.audit import AuditEvent
from andon.errors import Conflict, Forbidden, InvalidSubmission
from andon.flows import queries, runtime
from andon.flows.models import FlowInstance, Task
from andon.identity.models import User

REQUEST = {"title": "Add an export", "project": "PRJ-1", "reason": "Customer asked",
           "effort_days": "4", "customer_contact": "Liu Yang"}


def start(session: Session, user: User, **changes: Any) -> FlowInstance:
    """Start a change request and commit."""
    instance = runtime.start_instance(session, "change_request", user, {**REQUEST, **changes})
    session.commit()
    return instance


def open_tasks(instance: FlowInstance) -> list[Task]:
    """Return the instance's open tasks."""
    return [task for task in instance.tasks if task.state == "open"]


def decide(session: Session, instance: FlowInstance, user: User, decision: str) -> Task:
    """Complete the instance's one open task with a decision."""
    (task,) = open_tasks(instance)
    done = runtime.complete_task(session, task.id, user, {"decision": decision, "comment": "ok"})
    session.commit()
    return done


def test_small_change_ends_after_the_project_manager(session: Session, people: dict[str, User]):
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    assert review.step_id == "pm_review"
    assert review.candidate_group.key == "project-managers" and review.assignee_id is None
    assert review.title("zh-CN") == "项目经理审核"
    assert [t.id for t in session.scalars(queries.inbox(people["pm"]))] == [review.id]
    assert list(session.scalars(queries.inbox(people["director"]))) == []

    decide(session, instance, people["pm"], "approve")
    assert instance.status == "completed" and instance.ended_at is not None
    assert instance.data["outcome"] == "approved"
    assert open_tasks(instance) == []


def test_large_change_goes_on_to_the_director(session: Session, people: dict[str, User]):
    instance = start(session, people["engineer1"], effort_days="10.5")
    decide(session, instance, people["pm"], "approve")
    (approval,) = open_tasks(instance)
    assert approval.step_id == "director_approval"
    assert approval.candidate_group.key == "delivery-directors"
    assert instance.status == "running"

    decide(session, instance, people["director"], "approve")
    assert instance.status == "completed" and instance.data["outcome"] == "approved"


@pytest.mark.parametrize("effort", ["4", "40"])
def test_rejection_by_the_project_manager_ends_the_flow(session, people, effort):
    instance = start(session, people["engineer1"], effort_days=effort)
    decide(session, instance, people["pm"], "reject")
    assert instance.status == "completed" and instance.data["outcome"] == "rejected"


def test_exactly_ten_man_days_needs_no_director(session, people):
    instance = start(session, people["engineer1"], effort_days="10")
    decide(session, instance, people["pm"], "approve")
    assert instance.status == "completed"


def test_director_rejection_ends_the_flow(session, people):
    instance = start(session, people["engineer1"], effort_days="30")
    decide(session, instance, people["pm"], "approve")
    decide(session, instance, people["director"], "reject")
    assert instance.data["outcome"] == "rejected"


def test_invalid_start_form_saves_nothing_and_names_the_fields(session, people):
    with pytest.raises(InvalidSubmission) as caught:
        runtime.start_instance(session, "change_request", people["engineer1"],
                               {**REQUEST, "effort_days": "lots", "title": ""})
    session.rollback()
    assert set(caught.value.errors) == {"effort_days", "title"}
    assert caught.value.values["effort_days"] == "lots"
    assert session.scalar(select(FlowInstance.id)) is None
    assert session.scalar(select(AuditEvent.id)) is None


def test_only_candidates_may_complete_and_nothing_changes(session, people):
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    with pytest.raises(Forbidden):
        runtime.complete_task(session, review.id, people["engineer2"], {"decision": "approve"})
    session.rollback()
    assert session.get(Task, review.id).state == "open"


def test_a_claimed_task_belongs_to_the_claimer_alone(session, people):
    other_pm = people["engineer2"]
    other_pm.groups.append(people["pm"].groups[0])
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    runtime.claim_task(session, review.id, people["pm"])
    session.commit()
    assert list(session.scalars(queries.inbox(other_pm))) == []
    with pytest.raises(Forbidden):
        runtime.complete_task(session, review.id, other_pm, {"decision": "approve"})


def test_invalid_decision_keeps_the_task_open(session, people):
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    with pytest.raises(InvalidSubmission) as caught:
        runtime.complete_task(session, review.id, people["pm"], {"decision": "maybe"})
    session.rollback()
    assert "decision" in caught.value.errors
    assert session.get(Task, review.id).state == "open"


def test_a_second_completion_is_a_conflict(session, people, engine):
    """Two people open the same task; the second to submit is told, nothing changes."""
    from andon.database import make_session_factory

    people["engineer2"].groups.append(people["pm"].groups[0])
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    other = make_session_factory(engine)()
    other_task = other.get(Task, review.id)  # the second person has the page open
    other_user = other.get(User, people["engineer2"].id)
    assert other_task.state == "open"

    decide(session, instance, people["pm"], "approve")
    with pytest.raises(Conflict):
        runtime.complete_task(other, review.id, other_user, {"decision": "reject"})
    other.close()
    session.expire_all()
    assert instance.data["outcome"] == "approved"
    assert session.get(Task, review.id).completed_by_id == people["pm"].id


def test_timeline_records_who_did_what(session, people):
    instance = start(session, people["engineer1"], effort_days="20")
    decide(session, instance, people["pm"], "approve")
    events = [(e.kind, e.actor.username if e.actor else None)
              for e in queries.timeline(session, instance)]
    assert events == [
        ("instance.started", "engineer1"),
        ("task.completed", "engineer1"),
        ("task.created", None),
        ("task.completed", "pm"),
        ("task.created", None),
    ]


def test_only_people_involved_see_an_instance(session, people):
    instance = start(session, people["engineer1"])
    assert queries.can_view(session, instance, people["engineer1"])
    assert queries.can_view(session, instance, people["pm"])  # a candidate
    assert queries.can_view(session, instance, people["leader"])
    assert not queries.can_view(session, instance, people["engineer2"])
    assert not queries.can_view(session, instance, people["director"])
    visible = session.scalars(queries.visible_instances(people["engineer2"]))
    assert list(visible) == []


def test_instance_keeps_its_version_when_a_new_one_is_published(session, people):
    from pathlib import Path

    from andon.flows.deploy import deploy_flow

    instance = start(session, people["engineer1"], effort_days="20")
    source = Path("definitions/flows/change_request.bpmn").read_text()
    version, created = deploy_flow(session, source.replace("项目经理审核", "项目经理评审").encode(),
                                   "change_request.bpmn")
    session.commit()
    assert created and version.number == 2
    decide(session, instance, people["pm"], "approve")
    assert instance.version.number == 1
    assert open_tasks(instance)[0].step_id == "director_approval"
    newer = start(session, people["engineer1"])
    assert newer.version.number == 2
    assert open_tasks(newer)[0].title("zh-CN") == "项目经理评审"
