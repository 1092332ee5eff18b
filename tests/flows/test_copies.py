"""CC (抄送): people a step copies, or the assignee copies, are told and may follow the flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from andon.audit import history
from andon.errors import Conflict, Forbidden, InvalidDefinition
from andon.flows import actions, queries, runtime
from andon.flows.deploy import deploy_flow
from andon.flows.models import FlowInstance, Task
from andon.i18n import translator
from andon.notifications.center import message_of
from andon.notifications.models import Notification

REQUEST = {"title": "Export", "project": "P", "reason": "Customer asked", "effort_days": "3",
           "customer_contact": "leader"}
OWNER = '<spiff:property name="owner" value="group:project-managers"/>'


def deploy_with_cc(session, cc: str) -> None:
    """Publish the change request with a cc property on the project manager review."""
    source = Path("definitions/flows/change_request.bpmn").read_text()
    assert OWNER in source
    deploy_flow(session, source.replace(
        OWNER, f'{OWNER}<spiff:property name="cc" value="{cc}"/>').encode(), "cr.bpmn")


def start(session, people) -> FlowInstance:
    instance = runtime.start_instance(session, "change_request", people["engineer1"], REQUEST)
    session.commit()
    return instance


def copies_to(session, username_of) -> dict[str, str]:
    """Return each CC notification's reader and its English text."""
    notes = session.scalars(select(Notification).where(Notification.kind == "cc"))
    return {username_of[n.user_id]: message_of(n).render(translator("en")) for n in notes}


def names(people) -> dict[int, str]:
    return {user.id: name for name, user in people.items()}


def test_a_step_copies_the_people_its_cc_rules_name_and_they_may_follow(session, people):
    deploy_with_cc(session, "user:engineer2, manager:starter")
    instance = start(session, people)
    assert copies_to(session, names(people)) == {
        "engineer2": "You are copied: “Project manager review” of “Export” is waiting for "
                     "项目经理 Project managers",
        "pm": "You are copied: “Project manager review” of “Export” is waiting for "
              "项目经理 Project managers"}
    assert queries.can_view(session, instance, people["engineer2"])
    assert instance.id in [i.id for i in session.scalars(
        queries.visible_instances(people["engineer2"]))]
    assert not queries.can_view(session, instance, people["director"])
    assert "task.copied" in [e.kind for e in history(session, "instance", instance.id)]


def test_a_field_rule_copies_the_person_named_in_the_form(session, people):
    deploy_with_cc(session, "field:customer_contact")
    start(session, people)
    assert set(copies_to(session, names(people))) == {"leader"}


@pytest.mark.parametrize(("cc", "problem"), [
    ("user:nobody", "no user named 'nobody'"),
    ("lane", "cc lists people: lane is not allowed there"),
    ("boss", "cc: owner 'boss' is not starter"),
])
def test_a_bad_cc_rule_is_refused_at_deploy_naming_the_step(session, people, cc, problem):
    with pytest.raises(InvalidDefinition) as caught:
        deploy_with_cc(session, cc)
    assert any(where.endswith("pm_review") and problem in what
               for where, what in caught.value.problems), caught.value.problems


def test_the_assignee_copies_someone_with_a_note(session, people):
    instance = start(session, people)
    (review,) = [t for t in instance.tasks if t.state == "open"]
    with pytest.raises(Forbidden):
        actions.cc(session, review.id, people["engineer2"], people["director"], "")
    with pytest.raises(Conflict):
        actions.cc(session, review.id, people["pm"], people["pm"], "")
    actions.cc(session, review.id, people["pm"], people["director"], "FYI: budget")
    session.commit()
    assert copies_to(session, names(people)) == {
        "director": "王芳 Wang Fang copied you on “Project manager review” of “Export”: "
                    "FYI: budget"}
    assert queries.can_view(session, instance, people["director"])
    (event,) = [e for e in history(session, "instance", instance.id)
                if e.kind.startswith("task.cc")]
    assert (event.kind, event.detail["to"], event.detail["reason"]) == (
        "task.cc.noted", "陈静 Chen Jing", "FYI: budget")
    assert session.get(Task, review.id).state == "open"
