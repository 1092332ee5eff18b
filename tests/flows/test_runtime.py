"""The change request flow run through the runtime with a session and no HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from andon.audit import AuditEvent
from andon.database import make_session_factory
from andon.errors import Conflict, Forbidden, InvalidSubmission, StaleInstance
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


@pytest.fixture
def colleague(session: Session, people: dict[str, User], engine) -> Iterator[tuple[Session, User]]:
    """Give engineer2 a seat in the project managers' group and a session of their own."""
    people["engineer2"].groups.append(people["pm"].groups[0])
    session.commit()
    other = make_session_factory(engine)()
    yield other, other.get(User, people["engineer2"].id)
    other.close()


def load_page(other: Session, task_id: int) -> Task:
    """Load a task and its instance the way opening the task page does."""
    task = other.get(Task, task_id)
    assert task.instance.state and task.instance.version.content
    return task


@pytest.mark.parametrize("effort", ["3", "20"])
def test_two_people_completing_at_once_one_wins_the_other_is_told(session, people, colleague,
                                                                  effort):
    other, engineer2 = colleague
    instance = start(session, people["engineer1"], effort_days=effort)
    (review,) = open_tasks(instance)
    page = load_page(other, review.id)  # both have the page open (and hold it)

    decide(session, instance, people["pm"], "approve")
    with pytest.raises(Conflict):  # told who was first, or that the instance changed
        runtime.complete_task(other, review.id, engineer2, {"decision": "reject"})
    other.rollback()
    del page
    session.expire_all()
    assert session.get(Task, review.id).completed_by_id == people["pm"].id
    assert instance.data["outcome" if effort == "3" else "decision"] in ("approved", "approve")
    assert len([t for t in instance.tasks if t.step_id == "director_approval"]) == (
        effort == "20")


def test_a_second_completion_after_the_first_is_told_who_was_first(session, people, colleague):
    other, engineer2 = colleague
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    decide(session, instance, people["pm"], "approve")
    with pytest.raises(Conflict, match="already completed by"):
        runtime.complete_task(other, review.id, engineer2, {"decision": "reject"})
    other.rollback()  # as the request ends; it held the instance's lock until then
    with pytest.raises(Conflict, match="You have already completed"):
        runtime.complete_task(session, review.id, people["pm"], {"decision": "reject"})


def test_two_people_claiming_at_once_only_one_gets_it(session, people, colleague):
    other, engineer2 = colleague
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    page = load_page(other, review.id)
    runtime.claim_task(session, review.id, people["pm"])
    session.commit()
    with pytest.raises((Forbidden, StaleInstance)):  # it is the pm's now
        runtime.claim_task(other, review.id, engineer2)
    other.rollback()
    del page
    session.expire_all()
    assert session.get(Task, review.id).assignee_id == people["pm"].id


def test_outsiders_learn_nothing_about_a_completed_task(session, people):
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    decide(session, instance, people["pm"], "approve")
    with pytest.raises(Forbidden):
        runtime.complete_task(session, review.id, people["director"], {"decision": "reject"})


def test_running_instances_keep_the_form_version_they_started_with(session, people):
    import json
    from pathlib import Path

    from andon.flows.deploy import deploy_flow
    from andon.forms.store import deploy_form

    before = start(session, people["engineer1"])
    review = json.loads(Path("definitions/forms/change_review.json").read_text())
    review["schema"]["properties"]["risk"] = {"type": "string", "title": "Risk"}
    review["schema"]["required"].append("risk")
    deploy_form(session, json.dumps(review), "change_review.json")
    flow = Path("definitions/flows/change_request.bpmn").read_bytes()
    assert deploy_flow(session, flow, "change_request.bpmn")[1]  # new pins, new version
    session.commit()

    decide(session, before, people["pm"], "approve")  # the old form has no "risk"
    assert before.status == "completed"
    after = start(session, people["engineer1"])
    (task,) = open_tasks(after)
    with pytest.raises(InvalidSubmission) as caught:
        runtime.complete_task(session, task.id, people["pm"], {"decision": "approve"})
    assert set(caught.value.errors) == {"risk"}


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


def test_manager_of_the_starter_owns_a_step_so_ruled(session, people):
    from pathlib import Path

    from andon.flows.deploy import deploy_flow

    source = Path("definitions/flows/change_request.bpmn").read_text()
    deploy_flow(session, source.replace('value="group:project-managers"',
                                        'value="manager:starter"').encode(), "cr.bpmn")
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    assert review.assignee.username == "pm"  # the manager of 华东交付中心
    assert [t.id for t in session.scalars(queries.inbox(people["pm"]))] == [review.id]


def redeploy(session, owner: str) -> None:
    """Publish the change request with another owner rule for the review step."""
    from pathlib import Path

    from andon.flows.deploy import deploy_flow

    source = Path("definitions/flows/change_request.bpmn").read_text()
    deploy_flow(session, source.replace('value="group:project-managers"',
                                        f'value="{owner}"').encode(), "cr.bpmn")


def test_an_org_unit_can_own_a_step_and_its_members_claim_it(session, people):
    redeploy(session, "orgunit:delivery-east")
    instance = start(session, people["engineer1"])
    (review,) = open_tasks(instance)
    assert review.candidate_org_unit.key == "delivery-east" and review.assignee_id is None
    for member in ("engineer2", "director", "leader"):
        assert [t.id for t in session.scalars(queries.inbox(people[member]))] == [review.id]
    runtime.claim_task(session, review.id, people["engineer2"])
    assert list(session.scalars(queries.inbox(people["director"]))) == []


def test_a_user_named_in_the_form_can_own_a_step(session, people):
    redeploy(session, "field:customer_contact")
    instance = start(session, people["engineer1"], customer_contact="director")
    (review,) = open_tasks(instance)
    assert review.assignee.username == "director"


def test_an_unknown_org_unit_is_refused_at_load(session, people):
    from andon.errors import InvalidDefinition

    with pytest.raises(InvalidDefinition) as caught:
        redeploy(session, "orgunit:nowhere")
    assert ("cr.bpmn: pm_review", "no org unit with the key 'nowhere'") in caught.value.problems
